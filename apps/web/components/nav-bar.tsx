'use client';

import Link from 'next/link';
import { usePathname, useRouter } from 'next/navigation';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { ThemeToggle } from './theme-toggle';

const PAGES = [
  { href: '/', label: 'Overview' },
  { href: '/live', label: 'Live' },
  { href: '/search', label: 'Search' },
  { href: '/inventory', label: 'Inventory' },
];

/** Is the key press aimed at a text field (where "/" is just a character)? */
function typingIn(target: EventTarget | null): boolean {
  const element = target as HTMLElement | null;
  return (
    !!element && (element.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(element.tagName))
  );
}

export function NavBar() {
  const pathname = usePathname();
  const router = useRouter();
  const input = useRef<HTMLInputElement>(null);
  const [query, setQuery] = useState('');

  // "/" anywhere focuses the search box, as on most consoles.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== '/' || typingIn(event.target)) return;
      event.preventDefault();
      input.current?.focus();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const text = query.trim();
    router.push(text ? `/search?binary=${encodeURIComponent(text)}` : '/search');
  };

  return (
    <header className="nav">
      <span className="brand">Proctrail</span>
      <nav>
        {PAGES.map((page) => (
          <Link
            key={page.href}
            href={page.href}
            className={pathname === page.href ? 'active' : undefined}
          >
            {page.label}
          </Link>
        ))}
      </nav>
      <form onSubmit={submit} className="quick-search" role="search">
        <input
          ref={input}
          aria-label="Search binaries (press /)"
          placeholder="binary…  (press /)"
          value={query}
          onChange={(event) => setQuery(event.target.value)}
        />
      </form>
      <ThemeToggle />
    </header>
  );
}
