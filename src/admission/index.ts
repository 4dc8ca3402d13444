export { shedProbability, inBand } from './bands.js';
export {
  admissionConfigSchema,
  parseAdmissionConfig,
  patchAdmissionConfig,
  AdmissionConfigError,
  defaultDownloadBands,
  defaultUploadBands,
  type AdmissionConfig,
  type AdmissionConfigInput,
  type AdmissionConfigPatch,
  type CpuBand,
  type PolicyName,
} from './config.js';
export { AdmissionController, type AdmissionDeps } from './controller.js';
export { ShedError, grpcCodeFor, retryAfterHint, withoutStack } from './errors.js';
export { estimateWaitMs, type RunningTask, type WaitInputs } from './estimate.js';
export { KindEwma, ewmaStep } from './ewma.js';
export type { AdmissionSnapshot, KindCounters, KindSnapshot } from './metrics.js';
export {
  cpuBandPolicy,
  deadlinePolicy,
  evaluateLoadPolicies,
  memoryPolicy,
  policyCpu,
  priorityPolicy,
  requestKinds,
  shedReasons,
  type LoadSample,
  type RequestKind,
  type ShedDecision,
  type ShedReason,
} from './policies.js';
export { LoadSampler, readMachineLoad, type LoadSamplerOptions, type MachineLoad } from './sampler.js';
