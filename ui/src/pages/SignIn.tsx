import { useState } from 'preact/hooks';
import { ApiError, describeError, setToken, whoAmI, type Me } from '../api.ts';
import { navigate } from '../router.tsx';
import { useTitle } from '../hooks.ts';

/** Sign-in: paste a token; it is checked against the API and kept in this tab's session only. */
export function SignIn({ next, notice, onSignedIn }: { next: string | null; notice: string | null; onSignedIn: (me: Me) => void }) {
  useTitle('Sign in');
  const [token, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const t = token.trim();
    if (!t) {
      setError('Paste a token first.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const me = await whoAmI(t);
      setToken(t);
      setValue('');
      onSignedIn(me);
      const target = next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/signin') ? next : '/workflows';
      navigate(target, true);
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401
          ? 'This token was not accepted: it is wrong, revoked or expired. Check it, or create one with `npx pnpm@10.34.8 flowscope token create --name me --role viewer`.'
          : describeError(err),
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="signin" id="main">
      <h1>Sign in to flowscope</h1>
      {notice && (
        <p class="alert alert-info" role="status">
          {notice}
        </p>
      )}
      <form onSubmit={submit} class="card" aria-label="Sign in">
        <label for="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="off"
          spellcheck={false}
          value={token}
          onInput={(e) => setValue((e.target as HTMLInputElement).value)}
          aria-describedby="token-help"
          aria-invalid={error ? true : undefined}
        />
        <p id="token-help" class="muted">
          A viewer or admin token (printed at first start, or from <code>flowscope token create</code>). It is kept for this browser tab's
          session only and sent to the API in a header, never in a URL.
        </p>
        {error && (
          <p class="alert alert-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="btn btn-primary" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
