import { Metadata, ResponderBuilder, ServerInterceptingCall, ServerListenerBuilder, type ServerInterceptor } from '@grpc/grpc-js';
import { withoutStack, type AdmissionController } from '../admission/index.js';
import { deadlineOf } from './admission.js';

const downloadPath = '/larder.v1.LarderService/Download';
/** Downloads this interceptor admitted, by the metadata object grpc-js hands on to the handler. */
const admitted = new WeakSet<Metadata>();

/**
 * Admission for downloads, decided as soon as a call's headers arrive: a refused download never
 * has its request decoded nor a handler started. Under overload most calls are refused, and a
 * refusal that costs a sizeable fraction of a download (as it does after grpc-js has built the
 * whole call) eats the capacity shedding is meant to protect.
 */
export function earlyAdmissionInterceptor(controller: AdmissionController): ServerInterceptor {
  return (method, call) => {
    if (method.path !== downloadPath) return new ServerInterceptingCall(call);
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        const refusal = controller.decide('download', deadlineOf(call));
        if (refusal === null) {
          admitted.add(metadata);
          return next(metadata);
        }
        const trailers = new Metadata();
        for (const [k, v] of Object.entries(refusal.metadata())) trailers.set(k, v);
        withoutStack(() => call.sendStatus({ code: refusal.grpcCode, details: refusal.message, metadata: trailers }));
      })
      .build();
    return new ServerInterceptingCall(call, new ResponderBuilder().withStart((next) => next(listener)).build());
  };
}

/** True if the interceptor already admitted this call (else the handler decides, as before). */
export function admittedEarly(metadata: Metadata): boolean {
  return admitted.has(metadata);
}
