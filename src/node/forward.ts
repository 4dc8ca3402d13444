import { Metadata, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { nodeChannelOptions } from '../client/larder-client.js';
import { LarderServiceClient, type UploadHeader, type UploadRequest, type UploadResponse } from '../shared/proto/larder/v1/store.js';

const noop = (): void => {};

/**
 * A follower relays an upload to the leader, unchanged but for no_forward (so it is never relayed
 * twice). The client's stream is read as it is sent on, so nothing is buffered whole here.
 */
export async function forwardUpload(
  leader: string,
  creds: ChannelCredentials,
  header: UploadHeader,
  rest: AsyncIterator<UploadRequest>,
): Promise<UploadResponse> {
  const client = new LarderServiceClient(leader, creds, nodeChannelOptions);
  try {
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
  } finally {
    client.close();
  }
}
