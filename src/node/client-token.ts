import { ResponderBuilder, ServerInterceptingCall, ServerListenerBuilder, status, type ServerInterceptor } from '@grpc/grpc-js';
import { clientTokenKey } from '../client/retry.js';
import { tokenMatches } from './api-files.js';
import type { Logger } from './log.js';

/** Health stays open: load balancers and `larder cluster` probes carry no secrets. */
const open = new Set(['/larder.v1.LarderService/Health']);

/**
 * --client-token: every call of the client API must carry the token (metadata x-larder-token),
 * or it is refused with UNAUTHENTICATED before any handler runs. Peer services are untouched:
 * they are already guarded by the cluster's certificates.
 */
export function clientTokenInterceptor(token: string, log: Logger): ServerInterceptor {
  return (method, call) => {
    if (!method.path.startsWith('/larder.v1.LarderService/') || open.has(method.path)) return new ServerInterceptingCall(call);
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        const given = metadata.get(clientTokenKey)[0];
        if (typeof given === 'string' && tokenMatches(given, token)) return next(metadata);
        log.warn(
          { from: call.getPeer(), method: method.path },
          `refused a client call from ${call.getPeer()}: ${given === undefined ? 'no client token' : 'wrong client token'}`,
        );
        call.sendStatus({
          code: status.UNAUTHENTICATED,
          details: 'this cluster requires a client token: pass it with --client-token (or LARDER_CLIENT_TOKEN)',
        });
      })
      .build();
    return new ServerInterceptingCall(call, new ResponderBuilder().withStart((next) => next(listener)).build());
  };
}
