import type { sendUnaryData, ServerUnaryCall, UntypedServiceImplementation } from '@grpc/grpc-js';
import { LarderServiceService } from '../shared/proto/larder/v1/store.js';
import { acquireLock, clusterInfo, getStatus, keepAliveLock, releaseLock, removeMember, watchStatus } from './api-cluster.js';
import type { ApiContext } from './api-context.js';
import { toGrpcError } from './api-errors.js';
import { download, list, remove, stat, upload } from './api-files.js';
import { health, watchMetrics } from './api-metrics.js';

/** Adapts an async handler to grpc-js's callback style, mapping errors to statuses. */
function unary<Req, Res>(ctx: ApiContext, fn: (req: Req) => Promise<Res> | Res) {
  return (call: ServerUnaryCall<Req, Res>, cb: sendUnaryData<Res>): void => {
    Promise.resolve()
      .then(() => fn(call.request))
      .then(
        (res) => cb(null, res),
        (e: unknown) => cb(toGrpcError(e, ctx.leaderAddress)),
      );
  };
}

/** The client API (proto/larder/v1/store.proto) of one node. */
export function larderService(ctx: ApiContext): { definition: typeof LarderServiceService; implementation: UntypedServiceImplementation } {
  return {
    definition: LarderServiceService,
    implementation: {
      upload: (call: Parameters<typeof upload>[1], cb: Parameters<typeof upload>[2]) => void upload(ctx, call, cb),
      download: (call: Parameters<typeof download>[1]) => void download(ctx, call),
      watchStatus: (call: Parameters<typeof watchStatus>[1]) => void watchStatus(ctx, call),
      getStatus: unary(ctx, (req: Parameters<typeof getStatus>[1]) => getStatus(ctx, req)),
      stat: unary(ctx, (req: Parameters<typeof stat>[1]) => stat(ctx, req)),
      list: unary(ctx, (req: Parameters<typeof list>[1]) => list(ctx, req)),
      delete: unary(ctx, (req: Parameters<typeof remove>[1]) => remove(ctx, req)),
      clusterInfo: unary(ctx, () => clusterInfo(ctx)),
      health: unary(ctx, () => health(ctx)),
      watchMetrics: (call: Parameters<typeof watchMetrics>[1]) => watchMetrics(ctx, call),
      acquireLock: unary(ctx, (req: Parameters<typeof acquireLock>[1]) => acquireLock(ctx, req)),
      keepAliveLock: unary(ctx, (req: Parameters<typeof keepAliveLock>[1]) => keepAliveLock(ctx, req)),
      releaseLock: unary(ctx, (req: Parameters<typeof releaseLock>[1]) => releaseLock(ctx, req)),
      removeMember: unary(ctx, (req: Parameters<typeof removeMember>[1]) => removeMember(ctx, req)),
    },
  };
}
