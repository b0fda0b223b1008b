import { useTitle } from '../hooks.ts';

const JSON_ROUTE: Record<string, string> = {
  errors: '/api/v1/debugging/errors',
  performance: '/api/v1/debugging/performance',
  alerts: '/api/v1/debugging/alerts',
  alert: '/api/v1/debugging/alerts/{id}',
  system: '/api/v1/debugging/health',
};

/** A page of the UI that is not drawn yet: says so and names the JSON route that has the data. */
export function Pending({ name }: { name: string }) {
  useTitle(name);
  return (
    <main id="main">
      <h1>{name[0]?.toUpperCase() + name.slice(1)}</h1>
      <p>
        This page is not in the UI yet. The data is at <code>{JSON_ROUTE[name]}</code> (with your token in the Authorization header).
      </p>
    </main>
  );
}
