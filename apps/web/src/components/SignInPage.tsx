import { type FormEvent, useState } from 'react';
import { requestDevToken, SignInError } from '../dev-sign-in.js';
import type { Session } from '../session.js';
import { Logo } from './Logo.js';

interface SignInPageProps {
  onSignedIn: (session: Session) => void;
  /**
   * Why the person is here again (an expired session, or a sign-out, which keeps the
   * dashboard on the server for their other devices), shown above the form.
   */
  notice?: string | null;
}

export function SignInPage({ onSignedIn, notice = null }: SignInPageProps) {
  const [userId, setUserId] = useState('');
  const [workspaceId, setWorkspaceId] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);

  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    setPending(true);
    setError(null);
    const user = userId.trim();
    const workspace = workspaceId.trim();
    try {
      const token = await requestDevToken(user, workspace);
      onSignedIn({ token, userId: user, workspaceId: workspace });
    } catch (caught) {
      setError(
        caught instanceof SignInError ? caught.message : `Sign-in failed: ${String(caught)}`,
      );
      setPending(false);
    }
  };

  return (
    <main className="signin">
      <form className="signin-card" onSubmit={(event) => void submit(event)} noValidate>
        <div className="signin-brand">
          <Logo />
          <span className="brand-name">Hyvve</span>
        </div>
        <h1 className="signin-title">Sign in to your dashboard</h1>
        <p className="signin-note">
          <span className="pill">Demo sign-in</span> No password: any user and workspace id gets a
          token from this server&apos;s development sign-in. Your dashboard follows you across tabs
          and devices.
        </p>
        {notice && (
          <p className="form-notice" role="status">
            {notice}
          </p>
        )}
        <label className="field">
          <span className="field-label">User id</span>
          <input
            data-testid="signin-user"
            name="user"
            autoComplete="username"
            placeholder="ada"
            value={userId}
            onChange={(event) => setUserId(event.target.value)}
            required
          />
        </label>
        <label className="field">
          <span className="field-label">Workspace id</span>
          <input
            data-testid="signin-workspace"
            name="workspace"
            autoComplete="organization"
            placeholder="acme"
            value={workspaceId}
            onChange={(event) => setWorkspaceId(event.target.value)}
            required
          />
        </label>
        {error && (
          <p className="form-error" role="alert" data-testid="signin-error">
            {error}
          </p>
        )}
        <button
          type="submit"
          className="button button-primary button-block"
          data-testid="signin-submit"
          disabled={pending}
        >
          {pending ? 'Signing in…' : 'Sign in'}
        </button>
        <p className="signin-foot">Letters, digits, “-” and “_”, up to 128 characters.</p>
      </form>
    </main>
  );
}
