/**
 * What provisioning may do to the cloud's database: open it, create and import
 * customers and kiosks through the cloud's own functions (ledger events, audit lines),
 * and check the ledger afterwards. Nothing else of the cloud's internals is reachable
 * from provisioning.
 */
export { startCloud, type RunningCloud } from './cloud.js';
export { openCloudDatabase } from './store/open-database.js';
export type { Db, Queryable } from './store/db.js';
export { CloudError } from './errors.js';
export { newAccountId } from './customers/account-id.js';
export { createCustomer, findCustomer, findCustomerByPhone } from './customers/customers.js';
export { createKiosk, kioskTariff } from './kiosks/kiosks.js';
export type { Tariff } from './payments/tariff.js';
export { audit } from './admin/adjustments.js';
export { createOperator, listOperators, setOperatorDisabled } from './console/operator-accounts.js';
export { MIN_PASSWORD_LENGTH as MIN_OPERATOR_PASSWORD_LENGTH } from './console/password-rule.js';
export { OPERATOR_ROLES } from './console/roles.js';
export { appendEvents, balanceDrift, lockCustomerChanges } from './ledger/ledger.js';
export {
  checkCustomerFields,
  claim,
  importCandidate,
  importedBefore,
  newRunClaims,
  type CustomerCandidate,
  type ImportOutcome,
  type RunClaims,
  type SkipReason,
} from './customers/customer-import.js';
export { ImportReport } from './customers/import-report.js';
