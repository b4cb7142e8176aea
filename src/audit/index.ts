export {
  auditFilePath,
  createAuditLogger,
  createNullAuditLogger,
  formatAuditLine,
  utcDate,
  utcTimestamp,
} from './logger.js';
export type { AuditLevel, AuditLogger, AuditLoggerOptions } from './logger.js';
