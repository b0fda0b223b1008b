import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Me } from './api.ts';

/** Who is signed in (null while unknown). Admin-only controls are shown by it; the API refuses anyway. */
export const SessionContext = createContext<Me | null>(null);
export const useMe = () => useContext(SessionContext);
export const useIsAdmin = () => useContext(SessionContext)?.role === 'admin';
