import { status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { nodeIdSchema } from '../discovery/index.js';
import { MembershipServiceService, type JoinRequest, type JoinResponse, type MembershipServiceServer } from '../shared/proto/larder/v1/membership.js';
import type { PeerAuthorizer } from '../transport/types.js';
import { grpcError, toGrpcError } from './api-errors.js';
import type { Logger } from './log.js';
import { MembershipError, type Membership } from './membership.js';

const hostPort = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/;

/**
 * The peer-only Join RPC. A caller must present a certificate issued under the cluster secret:
 * a device that merely answers mDNS, or a node with another secret, is refused and logged.
 */
export function membershipService(
  membership: Membership,
  authorize: PeerAuthorizer,
  log: Logger,
  leaderAddress: () => string | null,
): { definition: typeof MembershipServiceService; implementation: MembershipServiceServer } {
  return {
    definition: MembershipServiceService,
    implementation: {
      join(call: ServerUnaryCall<JoinRequest, JoinResponse>, cb: sendUnaryData<JoinResponse>): void {
        const verdict = authorize(call.getAuthContext()?.sslPeerCertificate?.raw);
        if (!verdict.ok) {
          log.warn({ from: call.getPeer(), node: call.request.nodeId }, `refused a join from ${call.getPeer()}: ${verdict.reason}`);
          return cb(grpcError(status.UNAUTHENTICATED, `not a member of this cluster: ${verdict.reason}`));
        }
        const problem = checkJoin(call.request);
        if (problem) return cb(grpcError(status.INVALID_ARGUMENT, problem));
        membership.join(call.request).then(
          (res) => cb(null, res),
          (e: unknown) => {
            if (e instanceof MembershipError) return cb(grpcError(e.code === 'INVALID' ? status.INVALID_ARGUMENT : status.FAILED_PRECONDITION, e.message));
            cb(toGrpcError(e, leaderAddress));
          },
        );
      },
    },
  };
}

function checkJoin(req: JoinRequest): string | null {
  if (!nodeIdSchema.safeParse(req.nodeId).success) return `"${req.nodeId}" is not a node id (letters, digits, "_", "." and "-", at most 63 characters)`;
  if (!hostPort.test(req.address)) return `"${req.address}" is not host:port`;
  return null;
}
