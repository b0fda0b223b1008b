import { useTitle } from '../hooks.ts';
import { Link } from '../router.tsx';

export function NotFound({ what }: { what?: string }) {
  useTitle('Not found');
  return (
    <main id="main">
      <h1>Not found</h1>
      <p>{what ?? 'There is no page at this address.'}</p>
      <p>
        <Link href="/workflows">Go to the workflows</Link>
      </p>
    </main>
  );
}
