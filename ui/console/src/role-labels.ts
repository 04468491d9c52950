import type { OperatorRole } from '@tusafishe/cloud/console-api';

/** How the console names each role (the header, the Operators page). */
export const ROLE_LABELS: Record<OperatorRole, string> = {
  admin: 'Admin',
  customer_service: 'Customer service',
  finance: 'Finance',
  field: 'Field',
};
