import { useEffect, useState } from 'preact/hooks';
import { clearToken, getToken, onUnauthorized, whoAmI, type Me } from './api.ts';
import { Link, navigate, useLocation } from './router.tsx';
import { SessionContext } from './session.ts';
import { SignIn } from './pages/SignIn.tsx';
import { Workflows } from './pages/Workflows.tsx';
import { WorkflowPage } from './pages/Workflow.tsx';
import { NotFound } from './pages/NotFound.tsx';
import { Errors } from './pages/Errors.tsx';
import { Alerts, AlertPage } from './pages/Alerts.tsx';
import { System } from './pages/System.tsx';
import { Performance } from './pages/Performance.tsx';

const NAV = [
  { href: '/workflows', label: 'Workflows', match: ['workflows', 'workflow', 'trace', 'home'] },
  { href: '/errors', label: 'Errors', match: ['errors'] },
  { href: '/performance', label: 'Performance', match: ['performance'] },
  { href: '/alerts', label: 'Alerts', match: ['alerts', 'alert'] },
  { href: '/system', label: 'System', match: ['system'] },
];

export function App() {
  const loc = useLocation();
  const [me, setMe] = useState<Me | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const token = getToken();
  const route = loc.match?.name;

  const signOut = (message: string | null) => {
    clearToken();
    setMe(null);
    setNotice(message);
    const here = `${window.location.pathname}${window.location.search}`;
    navigate(message && !here.startsWith('/signin') ? `/signin?next=${encodeURIComponent(here)}` : '/signin', true);
  };

  useEffect(() => onUnauthorized(() => signOut('Your session ended: the token was revoked or expired. Sign in again.')), []);
  // who the stored token is (after a reload)
  useEffect(() => {
    if (token && !me) whoAmI(token).then(setMe, () => undefined);
  }, [token]);
  useEffect(() => {
    if (!token && route !== 'signin') navigate(`/signin?next=${encodeURIComponent(`${loc.path}${window.location.search}`)}`, true);
    else if (route === 'home') navigate('/workflows', true);
  }, [token, route]);

  if (route === 'signin' || !token) {
    return (
      <SignIn
        next={loc.search.get('next')}
        notice={notice}
        onSignedIn={(m) => {
          setNotice(null);
          setMe(m);
        }}
      />
    );
  }

  let page;
  switch (route) {
    case 'workflows':
    case 'home':
      page = <Workflows />;
      break;
    case 'workflow':
      page = <WorkflowPage key={loc.match?.params.id} id={loc.match?.params.id ?? ''} kind="workflow" />;
      break;
    case 'trace':
      page = <WorkflowPage key={loc.match?.params.id} id={loc.match?.params.id ?? ''} kind="trace" />;
      break;
    case 'errors':
      page = <Errors />;
      break;
    case 'performance':
      page = <Performance />;
      break;
    case 'alerts':
      page = <Alerts />;
      break;
    case 'alert':
      page = <AlertPage key={loc.match?.params.id} id={loc.match?.params.id ?? ''} />;
      break;
    case 'system':
      page = <System />;
      break;
    default:
      page = <NotFound />;
  }

  return (
    <SessionContext.Provider value={me}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <Link href="/workflows" class="brand">
          flowscope
        </Link>
        <nav aria-label="Main">
          <ul>
            {NAV.map((n) => (
              <li key={n.href}>
                <Link href={n.href} aria-current={route && n.match.includes(route) ? 'page' : undefined}>
                  {n.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          {me && (
            <span>
              {me.name} <span class="badge">{me.role}</span>
            </span>
          )}
          <button type="button" class="btn btn-small" onClick={() => signOut(null)}>
            Sign out
          </button>
        </div>
      </header>
      {page}
    </SessionContext.Provider>
  );
}
