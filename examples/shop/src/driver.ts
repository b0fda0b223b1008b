/**
 * The load driver: runs the shop's workflows (login, search, add_to_cart, checkout) against
 * the orders API as a customer's browser would, one HTTP request per workflow, and records the
 * correlation id each answer carries (the workflow id flowscope stores).
 */
export const WORKFLOWS = ['login', 'search', 'add_to_cart', 'checkout'] as const;
export type Workflow = (typeof WORKFLOWS)[number];

export interface Outcome {
  workflow: Workflow;
  status: number;
  correlationId: string | null;
  error?: string;
}

export class Customer {
  private session: string | undefined;
  constructor(private readonly baseUrl: string) {}

  private async request(workflow: Workflow, method: string, path: string, body?: unknown): Promise<Outcome> {
    try {
      const response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: body ? { 'content-type': 'application/json' } : {},
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(30_000),
      });
      const json = (await response.json().catch(() => ({}))) as { session?: string; error?: string };
      if (json.session) this.session = json.session;
      return { workflow, status: response.status, correlationId: response.headers.get('x-correlation-id'), ...(json.error ? { error: json.error } : {}) };
    } catch (error) {
      return { workflow, status: 0, correlationId: null, error: (error as Error).message };
    }
  }

  run(workflow: Workflow): Promise<Outcome> {
    switch (workflow) {
      case 'login':
        return this.request('login', 'POST', '/api/login', { user: `customer-${Math.floor(Math.random() * 1000)}` });
      case 'search':
        return this.request('search', 'GET', `/api/search?q=${['tea', 'mug', 'green'][Math.floor(Math.random() * 3)]}`);
      case 'add_to_cart':
        return this.request('add_to_cart', 'POST', '/api/cart', { session: this.session, sku: ['tea-green', 'tea-black', 'mug'][Math.floor(Math.random() * 3)], qty: 1 });
      case 'checkout':
        return this.request('checkout', 'POST', '/api/checkout', { session: this.session });
    }
  }

  /** One visit: every workflow once, in order. */
  async round(): Promise<Outcome[]> {
    const out: Outcome[] = [];
    for (const w of WORKFLOWS) out.push(await this.run(w));
    return out;
  }
}
