/**
 * The storefront page's script: the flowscope web entry (page loads and API calls become
 * frontend spans of the workflow; the correlation id travels on every call) and four buttons
 * that run the shop's workflows against the orders API on the same origin.
 */
import { initFlowscopeWeb } from '@flowscope/instrumentation/web';

interface ShopPage {
  SHOP: { endpoint: string };
  shop: unknown;
  document: { getElementById(id: string): { textContent: string | null; addEventListener(type: string, fn: () => void): void } | null };
}
const w = globalThis as unknown as ShopPage;
const flowscope = initFlowscopeWeb({ serviceName: 'storefront', endpoint: w.SHOP.endpoint, scheduledDelayMillis: 500 });
let session: string | undefined;

interface Outcome {
  workflow: string;
  workflowId: string;
  status: number;
  correlationId: string | null;
  body: unknown;
}

async function run(type: string, method: string, path: string, body?: unknown): Promise<Outcome> {
  return flowscope.withWorkflow(type, undefined, async (workflow) => {
    const response = await fetch(path, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
    const json = (await response.json()) as { session?: string };
    if (json.session) session = json.session;
    const outcome = { workflow: type, workflowId: workflow.id, status: response.status, correlationId: response.headers.get('x-correlation-id'), body: json };
    const out = w.document.getElementById('result');
    if (out) out.textContent = `${type}: ${response.status}`;
    return outcome;
  });
}

const shop = {
  login: () => run('login', 'POST', '/api/login', { user: 'browser-user' }),
  search: () => run('search', 'GET', '/api/search?q=tea'),
  addToCart: () => run('add_to_cart', 'POST', '/api/cart', { session, sku: 'tea-green', qty: 1 }),
  checkout: () => run('checkout', 'POST', '/api/checkout', { session }),
  flush: () => flowscope.forceFlush(),
};
w.shop = shop;
for (const [id, fn] of [['login', shop.login], ['search', shop.search], ['add', shop.addToCart], ['checkout', shop.checkout]] as const) {
  w.document.getElementById(id)?.addEventListener('click', () => void fn());
}
