export { readLogRecords, LogReader, MAX_LINE_LENGTH, type LogProgress } from './reader.js';
export { normaliseLogProtocol, normaliseIisCryptProtocol } from './protocol.js';
export { LogReadError, LogFormatError, type LogErrorCode } from './errors.js';
export { BUILT_IN_LAYOUTS, FAMILY_NAMES } from './formats.js';
export { HAPROXY_LAYOUTS } from './haproxy.js';
export {
  LOG_FORMAT_NAMES,
  type LogRecord,
  type LogRecordKind,
  type LogProtocol,
  type LogFormatName,
  type LogInputStats,
  type UnreadableLine,
  type ReadLogOptions,
} from './types.js';
