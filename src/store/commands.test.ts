import { describe, expect, it } from 'vitest';
import { CHUNK_SIZE_MAX_BYTES, sha256Hex } from './hash.js';
import { decodeCommand, encodeCommand, type Command } from './commands.js';
import { CommandDecodeError, CommandUnsupportedError, StoreError } from './errors.js';
import { rng, TestNode, withTempDir } from './test-support.js';

const h = (c: string) => c.repeat(64);
const data = rng(7).bytes(5000);
const manifest = {
  hash: h('a'),
  name: 'photo.jpg',
  size: 5000,
  mime: 'image/jpeg',
  chunks: [{ hash: sha256Hex(data), size: 5000 }],
  createdAtMs: 1_700_000_000_000,
  viaNode: 'node-a',
};

const samples: Command[] = [
  { type: 'putChunk', hash: sha256Hex(data), data },
  { type: 'acquireLock', key: `file:${h('a')}`, holder: 'client-1', ttlMs: 30_000, nowMs: 123 },
  { type: 'keepAliveLock', key: `file:${h('a')}`, token: 7, nowMs: 456 },
  { type: 'releaseLock', key: `file:${h('a')}`, token: 7 },
  { type: 'commitFile', manifest, token: 7, nowMs: 789 },
  { type: 'setStatus', hash: h('b'), status: 'processing' },
  { type: 'setStatus', hash: h('b'), status: 'error', message: 'disk full on the leader' },
  { type: 'deleteFile', hash: h('c') },
  { type: 'setMember', id: 'node-b', address: '10.0.0.2:7000', role: 'learner' },
  { type: 'removeMember', id: 'node-b' },
];

/** A hand-built command: header fields and metadata as given, for malformed cases. */
function frame(opcode: number, metadata: string, payload = new Uint8Array(0), version = 1, lengthOverride?: number): Uint8Array {
  const json = new TextEncoder().encode(metadata);
  const out = new Uint8Array(8 + json.length + payload.length);
  out.set([0x4c, 0x43, version, opcode]);
  new DataView(out.buffer).setUint32(4, lengthOverride ?? json.length);
  out.set(json, 8);
  out.set(payload, 8 + json.length);
  return out;
}

function decodeError(bytes: Uint8Array): StoreError {
  try {
    decodeCommand(bytes);
  } catch (error) {
    if (error instanceof StoreError) return error;
    throw error;
  }
  throw new Error('decoded without error');
}

describe('command encoding', () => {
  it.each(samples.map((c) => [c.type, c] as const))('round-trips %s', (_type, command) => {
    expect(decodeCommand(encodeCommand(command))).toEqual(command);
  });

  it('carries chunk bytes raw after a small JSON header, not as JSON or base64', () => {
    const bytes = encodeCommand({ type: 'putChunk', hash: sha256Hex(data), data });
    expect([...bytes.subarray(0, 4)]).toEqual([0x4c, 0x43, 1, 1]);
    const metadataBytes = new DataView(bytes.buffer).getUint32(4);
    expect(metadataBytes).toBeLessThan(100);
    expect(bytes.length).toBe(8 + metadataBytes + data.length);
    expect(Buffer.from(bytes.subarray(8 + metadataBytes)).equals(Buffer.from(data))).toBe(true);
  });

  it('copies chunk bytes out of the entry buffer', () => {
    const bytes = encodeCommand({ type: 'putChunk', hash: sha256Hex(data), data });
    const decoded = decodeCommand(bytes) as Extract<Command, { type: 'putChunk' }>;
    bytes.fill(0);
    expect(sha256Hex(decoded.data)).toBe(sha256Hex(data));
  });

  it.each([
    ['too short', new Uint8Array([0x4c, 0x43, 1]), /shorter than the 8-byte header/],
    ['bad magic', frame(1, '{}').map((b, i) => (i === 0 ? 0x00 : b)), /bad magic/],
    ['version 0', frame(2, '{}', undefined, 0), /version 0/],
    ['metadata past the end', frame(4, '{"key":"k","token":1}', undefined, 1, 9999), /runs past the end/],
    ['not JSON', frame(4, '{"key":'), /not UTF-8 JSON/],
    ['not UTF-8', frame(4, '\u0000').map((b, i) => (i === 8 ? 0xff : b)), /not UTF-8 JSON/],
    ['missing field', frame(4, '{"key":"k"}'), /releaseLock: token: Required/],
    ['unknown field', frame(4, '{"key":"k","token":1,"extra":true}'), /Unrecognized key/],
    ['bad hash', frame(7, '{"hash":"ABC"}'), /hash: expected a SHA-256 hash/],
    ['token 0', frame(4, '{"key":"k","token":0}'), /token: Number must be greater than or equal to 1/],
    ['bytes after metadata', frame(7, `{"hash":"${h('a')}"}`, new Uint8Array([1])), /1 unexpected bytes/],
    ['empty chunk', frame(1, `{"hash":"${h('a')}"}`), /at least one byte/],
    ['oversized chunk', frame(1, `{"hash":"${h('a')}"}`, new Uint8Array(CHUNK_SIZE_MAX_BYTES + 1)), /exceeds the 261120-byte chunk limit/],
    ['status done via setStatus', frame(6, `{"hash":"${h('a')}","status":"done"}`), /status: Invalid enum value/],
    [
      'manifest sizes disagree',
      frame(5, JSON.stringify({ manifest: { ...manifest, size: 4999 }, token: 1, nowMs: 1 })),
      /chunk sizes add up to 5000, not to size 4999/,
    ],
  ])('rejects %s with a clear COMMAND_MALFORMED error', (_name, bytes, message) => {
    const error = decodeError(bytes);
    expect(error).toBeInstanceOf(CommandDecodeError);
    expect(error.code).toBe('COMMAND_MALFORMED');
    expect(error.message).toMatch(message);
  });

  it('refuses newer versions and unknown opcodes as unsupported (a newer node wrote them)', () => {
    for (const bytes of [frame(2, '{}', undefined, 2), frame(200, '{}')]) {
      const error = decodeError(bytes);
      expect(error).toBeInstanceOf(CommandUnsupportedError);
      expect(error.message).toMatch(/upgrade Larder on this node/);
    }
  });

  it('refuses to encode an invalid command, so the log never holds one', () => {
    expect(() => encodeCommand({ type: 'deleteFile', hash: 'nope' })).toThrow(/cannot encode deleteFile: hash/);
    expect(() => encodeCommand({ type: 'putChunk', hash: h('a'), data: new Uint8Array(0) })).toThrow(/at least one byte/);
  });

  it('decodes or throws a typed error for 2,000 seeded mutations, never anything else', () => {
    const r = rng(42);
    const encoded = samples.map(encodeCommand);
    for (let i = 0; i < 2000; i++) {
      const bytes = (encoded[r.int(encoded.length)] as Uint8Array).slice();
      const mutation = r.int(3);
      if (mutation === 0) bytes[r.int(bytes.length)] = r.int(256);
      const cut = mutation === 1 ? bytes.subarray(0, r.int(bytes.length)) : bytes;
      try {
        decodeCommand(mutation === 2 ? new Uint8Array([...bytes, r.int(256)]) : cut);
      } catch (error) {
        expect(error).toBeInstanceOf(StoreError);
        expect(['COMMAND_MALFORMED', 'COMMAND_UNSUPPORTED']).toContain((error as StoreError).code);
      }
    }
  });
});

describe('applying undecodable entries', () => {
  it('rejects malformed bytes the same way everywhere and moves on', async () => {
    await withTempDir(async (dir) => {
      const node = await TestNode.open(dir);
      const result = await node.runBytes(frame(7, '{"hash":"x"}'));
      expect(result).toMatchObject({ ok: false, command: null, code: 'MALFORMED_COMMAND' });
      expect(node.sm.appliedIndex).toBe(1);
      expect(await node.runBytes(new Uint8Array(0))).toEqual({ ok: true, command: 'noop' });
      await node.sm.close();
    });
  });

  it('stops at a command of a newer format, without applying or skipping it', async () => {
    await withTempDir(async (dir) => {
      const node = await TestNode.open(dir);
      await expect(node.runBytes(frame(200, '{}'))).rejects.toBeInstanceOf(CommandUnsupportedError);
      expect(node.sm.appliedIndex).toBe(0);
      await node.sm.close();
    });
  });
});
