/**
 * Who may use what in the operations console. `admin` may use everything; a route names the
 * other roles it serves (`config: { roles: ['field'] }`).
 */
export const OPERATOR_ROLES = ['admin', 'customer_service', 'finance', 'field'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

/** True when `role` may call a route open to `allowed` (admin always may). */
export function roleAllows(role: OperatorRole, allowed: readonly OperatorRole[]): boolean {
  return role === 'admin' || allowed.includes(role);
}
