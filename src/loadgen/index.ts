export { clientThrottleReason, runClosedLoop, runOpenLoop, type LoadResult, type StoredFileRef, type Workload } from './run.js';
export { connect, downloadOnce, uploadOnce, type Connection, type Outcome } from './requests.js';
export { emptyTally, percentile, shedTotal, type KindTally } from './stats.js';
