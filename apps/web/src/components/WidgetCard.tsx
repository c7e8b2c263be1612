// The frame every widget shares: a titled card with an optional badge and a quiet
// progress line while an agent is updating the dashboard.

import { useIsLoading } from '@hyvve/client';
import type { ReactNode } from 'react';

interface WidgetCardProps {
  testId: string;
  title: string;
  subtitle?: string | undefined;
  badge?: ReactNode;
  className?: string;
  children: ReactNode;
}

export function WidgetCard({
  testId,
  title,
  subtitle,
  badge,
  className,
  children,
}: WidgetCardProps) {
  const isLoading = useIsLoading();
  return (
    <section
      className={`card ${className ?? ''}`}
      data-testid={testId}
      aria-busy={isLoading}
      aria-label={title}
    >
      {isLoading && <div className="card-progress" aria-hidden="true" />}
      <header className="card-head">
        <div>
          <h2 className="card-title">{title}</h2>
          {subtitle && <p className="card-subtitle">{subtitle}</p>}
        </div>
        {badge}
      </header>
      <div className="card-body">{children}</div>
    </section>
  );
}

export function EmptyState({ title, hint }: { title: string; hint: string }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      <p className="empty-hint">{hint}</p>
    </div>
  );
}
