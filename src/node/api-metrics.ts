import type { ServerWritableStream } from '@grpc/grpc-js';
import type { HealthResponse, WatchMetricsRequest, WatchMetricsResponse } from '../shared/proto/larder/v1/store.js';
import type { ApiContext } from './api-context.js';

/** Cheap liveness and load: never shed, so a busy node can still say how busy it is. */
export function health(ctx: ApiContext): HealthResponse {
  const st = ctx.loop.status();
  return { serving: st.lead !== null, nodeId: ctx.nodeId, role: st.role, leaderId: st.lead ?? '', admission: ctx.admissionStats() };
}

export function metricsSample(ctx: ApiContext): WatchMetricsResponse {
  const st = ctx.loop.status();
  return {
    atMs: Date.now(),
    nodeId: ctx.nodeId,
    role: st.role,
    term: st.term,
    commitIndex: st.commit,
    appliedIndex: st.applied,
    lastIndex: st.lastIndex,
    admission: ctx.admissionStats(),
  };
}

const defaultIntervalMs = 1000;
const minIntervalMs = 100;

/** Streams a metrics sample now and every interval until the client goes away (the UI's live plots). */
export function watchMetrics(ctx: ApiContext, call: ServerWritableStream<WatchMetricsRequest, WatchMetricsResponse>): void {
  const intervalMs = Math.max(minIntervalMs, call.request.intervalMs || defaultIntervalMs);
  const send = (): void => {
    // A slow reader gets fewer samples, not a growing buffer.
    if (call.writableLength === 0) call.write(metricsSample(ctx));
  };
  send();
  const timer = setInterval(send, intervalMs);
  const stop = (): void => {
    clearInterval(timer);
    unsubscribe();
    if (!call.cancelled && !call.writableEnded) call.end();
  };
  // A stopping node ends the stream, or its server would wait for the client to hang up.
  const unsubscribe = ctx.onStop(stop);
  call.once('cancelled', stop);
  call.once('close', stop);
  call.once('error', stop);
}
