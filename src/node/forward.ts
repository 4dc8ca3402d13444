import { Metadata, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { nodeChannelOptions } from '../client/larder-client.js';
import { LarderServiceClient, type UploadHeader, type UploadRequest, type UploadResponse } from '../shared/proto/larder/v1/store.js';

const noop = (): void => {};

/** Channels to leaders, kept across uploads: a new channel per upload paid a TLS handshake each time. */
export class UploadForwarder {
  private readonly clients = new Map<string, LarderServiceClient>();

  constructor(
    private readonly creds: ChannelCredentials,
    /** Leaders come and go; more addresses than this and the oldest channel is closed. */
    private readonly maxChannels = 8,
  ) {}

  forward(leader: string, header: UploadHeader, rest: AsyncIterator<UploadRequest>): Promise<UploadResponse> {
    return forwardUpload(this.clientFor(leader), header, rest);
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }

  private clientFor(address: string): LarderServiceClient {
    const known = this.clients.get(address);
    if (known) return known;
    if (this.clients.size >= this.maxChannels) {
      const [oldest, client] = this.clients.entries().next().value as [string, LarderServiceClient];
      client.close(); // calls in progress on it finish; only new calls are refused
      this.clients.delete(oldest);
    }
    const client = new LarderServiceClient(address, this.creds, nodeChannelOptions);
    this.clients.set(address, client);
    return client;
  }
}

/**
 * A follower relays an upload to the leader, unchanged but for no_forward (so it is never relayed
 * twice). The client's stream is read as it is sent on, so nothing is buffered whole here.
 */
async function forwardUpload(client: LarderServiceClient, header: UploadHeader, rest: AsyncIterator<UploadRequest>): Promise<UploadResponse> {
  let failed = false;
  let call!: ReturnType<typeof client.upload>;
  const done = new Promise<UploadResponse>((resolve, reject) => {
    call = client.upload(new Metadata(), (e: ServiceError | null, r?: UploadResponse) => {
      failed = e !== null;
      if (e) reject(e);
      else resolve(r!);
    });
  });
  call.on('error', () => {});
  // The leader may fail the call while we are still relaying: mark the rejection handled now.
  done.catch(() => {});
  call.write({ header: { ...header, noForward: true }, data: Buffer.alloc(0), complete: false });
  let complete = false;
  for (let r = await rest.next(); !r.done && !failed; r = await rest.next()) {
    complete ||= r.value.complete;
    // The leader may end the call while we wait: a finished call never drains.
    if (!call.write({ header: undefined, data: r.value.data, complete: r.value.complete }))
      await Promise.race([new Promise((res) => call.once('drain', res)), done.then(noop, noop)]);
  }
  // Our client went away without completing: cancel, so the leader stores nothing.
  if (!complete && !failed) call.cancel();
  else if (!failed) call.end();
  return await done;
}
