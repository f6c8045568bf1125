// What the signed-in role may do, and the one way an action the role does not allow is shown:
// disabled, with a tooltip saying why.
import type { ButtonHTMLAttributes } from "react";
import type { Permission, SessionInfo } from "./api";
import { useNav } from "./App";

/** Whether the session's role may do `permission`; local profiles may do everything. */
export function useCan() {
  const { session } = useNav();
  return (permission: Permission) => !!session?.permissions.includes(permission);
}

/** The tooltip of an action the role does not allow. */
export const notAllowed = (session?: SessionInfo) =>
  `Your role (${session?.user?.role ?? "unknown"}) does not allow this; ask a provider admin`;

/**
 * A button for an action that needs `permission`. When the role lacks it the button is disabled
 * and says why; otherwise it behaves like a plain button (its own `disabled` and `title` apply).
 */
export function Guarded({ permission, disabled, title, ...button }: { permission: Permission } & ButtonHTMLAttributes<HTMLButtonElement>) {
  const { session } = useNav();
  const allowed = useCan()(permission);
  return <button {...button} disabled={!allowed || disabled} title={allowed ? title : notAllowed(session)} />;
}
