import type { RequestKind } from './policies.js';

/**
 * The two bounded FIFO queues and the order they are served in. Downloads go first (they are
 * cheap and the bulk of traffic); while uploads wait, after `downloadsPerUpload` downloads in a
 * row one upload is served, so uploads get at least 1 of every downloadsPerUpload + 1 starts.
 */
export class TwoQueues<J extends { readonly kind: RequestKind }> {
  private readonly queues: Record<RequestKind, J[]> = { download: [], upload: [] };
  /** Downloads started in a row while an upload was waiting. */
  private downloadsInARow = 0;

  length(kind: RequestKind): number {
    return this.queues[kind].length;
  }

  isEmpty(): boolean {
    return this.queues.download.length === 0 && this.queues.upload.length === 0;
  }

  push(job: J): void {
    this.queues[job.kind].push(job);
  }

  /** Removes and returns the job to serve next, or undefined if both queues are empty. */
  shift(downloadsPerUpload: number): J | undefined {
    const uploadWaits = this.queues.upload.length > 0;
    const uploadsTurn = uploadWaits && (this.queues.download.length === 0 || this.downloadsInARow >= downloadsPerUpload);
    if (uploadsTurn) {
      this.downloadsInARow = 0;
      return this.queues.upload.shift();
    }
    const job = this.queues.download.shift();
    if (job) this.downloadsInARow = uploadWaits ? this.downloadsInARow + 1 : 0;
    return job;
  }
}
