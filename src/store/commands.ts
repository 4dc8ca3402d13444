/**
 * Binary encoding of replicated commands. Chunk bytes never go through JSON or base64:
 *
 *   offset 0  2 bytes  magic "LC" (Larder Command)
 *   offset 2  u8       format version (1)
 *   offset 3  u8       opcode (see `opcodes`)
 *   offset 4  u32 BE   metadata length M
 *   offset 8  M bytes  metadata as UTF-8 JSON (every field but the chunk bytes)
 *   offset 8+M         payload: putChunk's raw bytes; empty for every other command
 *
 * An empty entry (a new leader's no-op, or a membership change mapped to no data) is not a command.
 */
import { commandMetadataSchemas, commandTypeByOpcode, describeIssues, opcodes, type Command, type CommandType } from './command-schemas.js';
import { CommandDecodeError, CommandUnsupportedError, StoreError } from './errors.js';
import { CHUNK_SIZE_MAX_BYTES } from './hash.js';

export * from './command-schemas.js';

const MAGIC_0 = 0x4c; // 'L'
const MAGIC_1 = 0x43; // 'C'
export const COMMAND_FORMAT_VERSION = 1;
const HEADER_BYTES = 8;

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

/** Validates (the proposer must never put a command into the log that apply would reject as malformed) and encodes. */
export function encodeCommand(command: Command): Uint8Array {
  const { type, ...fields } = command;
  const payload = type === 'putChunk' ? command.data : new Uint8Array(0);
  const metadata = type === 'putChunk' ? { hash: command.hash } : fields;
  const parsed = commandMetadataSchemas[type].safeParse(metadata);
  if (!parsed.success) throw new StoreError('COMMAND_INVALID', `cannot encode ${type}: ${describeIssues(parsed.error)}`);
  if (type === 'putChunk') assertChunkPayload(payload.length, (m) => new StoreError('COMMAND_INVALID', `cannot encode putChunk: ${m}`));
  const json = textEncoder.encode(JSON.stringify(parsed.data));
  const out = new Uint8Array(HEADER_BYTES + json.length + payload.length);
  const view = new DataView(out.buffer);
  out[0] = MAGIC_0;
  out[1] = MAGIC_1;
  out[2] = COMMAND_FORMAT_VERSION;
  out[3] = opcodes[type];
  view.setUint32(4, json.length);
  out.set(json, HEADER_BYTES);
  out.set(payload, HEADER_BYTES + json.length);
  return out;
}

/**
 * Throws CommandDecodeError for bytes no version of Larder would produce, and
 * CommandUnsupportedError for a newer format version or opcode (a newer node wrote it).
 */
export function decodeCommand(bytes: Uint8Array): Command {
  if (bytes.length < HEADER_BYTES) throw new CommandDecodeError(`${bytes.length} bytes is shorter than the ${HEADER_BYTES}-byte header`);
  if (bytes[0] !== MAGIC_0 || bytes[1] !== MAGIC_1) throw new CommandDecodeError('bad magic: not a Larder command');
  const version = bytes[2] ?? 0;
  if (version === 0) throw new CommandDecodeError('format version 0 does not exist');
  if (version > COMMAND_FORMAT_VERSION)
    throw new CommandUnsupportedError(`command format version ${version} is newer than this node's ${COMMAND_FORMAT_VERSION}`);
  const type = commandTypeByOpcode.get(bytes[3] ?? 0);
  if (type === undefined) throw new CommandUnsupportedError(`unknown command opcode ${bytes[3]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const metadataBytes = view.getUint32(4);
  if (metadataBytes > bytes.length - HEADER_BYTES) {
    throw new CommandDecodeError(`${type}: metadata length ${metadataBytes} runs past the end of the ${bytes.length}-byte command`);
  }
  const metadata = parseMetadata(type, bytes.subarray(HEADER_BYTES, HEADER_BYTES + metadataBytes));
  const payload = bytes.subarray(HEADER_BYTES + metadataBytes);
  if (type !== 'putChunk') {
    if (payload.length !== 0) throw new CommandDecodeError(`${type}: ${payload.length} unexpected bytes after the metadata`);
    return { type, ...metadata } as Command;
  }
  assertChunkPayload(payload.length, (m) => new CommandDecodeError(`putChunk: ${m}`));
  // A copy: the entry's buffer may be reused by the log reader after apply returns.
  return { type, ...(metadata as { hash: string }), data: payload.slice() };
}

function parseMetadata(type: CommandType, json: Uint8Array): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(textDecoder.decode(json));
  } catch (error) {
    throw new CommandDecodeError(`${type}: metadata is not UTF-8 JSON (${(error as Error).message})`);
  }
  const parsed = commandMetadataSchemas[type].safeParse(raw);
  if (!parsed.success) throw new CommandDecodeError(`${type}: ${describeIssues(parsed.error)}`);
  return parsed.data as Record<string, unknown>;
}

function assertChunkPayload(length: number, fail: (message: string) => Error): void {
  if (length === 0) throw fail('a chunk holds at least one byte');
  if (length > CHUNK_SIZE_MAX_BYTES) throw fail(`${length} bytes exceeds the ${CHUNK_SIZE_MAX_BYTES}-byte chunk limit`);
}

/** The command type without decoding the metadata (for logs and metrics on the hot path). */
export function peekCommandType(bytes: Uint8Array): CommandType | null {
  if (bytes.length < HEADER_BYTES || bytes[0] !== MAGIC_0 || bytes[1] !== MAGIC_1) return null;
  return commandTypeByOpcode.get(bytes[3] ?? 0) ?? null;
}
