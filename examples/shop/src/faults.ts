/**
 * Fault injection, chosen on the demo's command line and handed to every service in the
 * environment: `SHOP_FAULTS=slow-db@inventory,error@payment` and `SHOP_FAULT_RATE=0.5` (share of
 * requests a fault hits). Each service asks `fault(kind)` for its own component.
 */
export const FAULT_KINDS = ['slow-db', 'error', 'timeout'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
export const COMPONENTS = ['inventory', 'orders', 'cart', 'payment'] as const;
export type Component = (typeof COMPONENTS)[number];

export interface Fault {
  kind: FaultKind;
  component: Component;
}

/** `kind[@component]` → a fault; `random` (or no component) picks one component at random. */
export function parseFault(text: string, random: () => number = Math.random): Fault {
  const [kind, where = 'random'] = text.trim().split('@');
  if (!(FAULT_KINDS as readonly string[]).includes(kind ?? '')) {
    throw new Error(`unknown fault kind ${JSON.stringify(kind)}: expected one of ${FAULT_KINDS.join(', ')}`);
  }
  if (where !== 'random' && !(COMPONENTS as readonly string[]).includes(where)) {
    throw new Error(`unknown component ${JSON.stringify(where)}: expected one of ${COMPONENTS.join(', ')} or random`);
  }
  const component = where === 'random' ? COMPONENTS[Math.floor(random() * COMPONENTS.length)]! : (where as Component);
  return { kind: kind as FaultKind, component };
}

export function formatFaults(faults: readonly Fault[]): string {
  return faults.map((f) => `${f.kind}@${f.component}`).join(',');
}

/** The faults of this process's component, read from the environment once. */
export function faultsFor(component: Component, env: Record<string, string | undefined> = process.env): (kind: FaultKind) => boolean {
  const list = (env.SHOP_FAULTS ?? '')
    .split(',')
    .filter((s) => s.trim() !== '')
    .map((s) => parseFault(s))
    .filter((f) => f.component === component);
  const rate = Number(env.SHOP_FAULT_RATE ?? '1');
  if (!Number.isFinite(rate) || rate < 0 || rate > 1) throw new Error(`SHOP_FAULT_RATE must be between 0 and 1 (got ${env.SHOP_FAULT_RATE})`);
  return (kind) => list.some((f) => f.kind === kind) && Math.random() < rate;
}

/** Milliseconds a slow query or a hung call takes (SHOP_SLOW_MS, default 1500). */
export function slowMs(env: Record<string, string | undefined> = process.env): number {
  const n = Number(env.SHOP_SLOW_MS ?? '1500');
  if (!Number.isInteger(n) || n < 0) throw new Error(`SHOP_SLOW_MS must be a non-negative integer (got ${env.SHOP_SLOW_MS})`);
  return n;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
