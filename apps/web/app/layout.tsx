import Script from 'next/script';
import type { ReactNode } from 'react';
import { Providers } from '../components/providers';
import { NavBar } from '../components/nav-bar';
import { liveSocketUrl } from '../state/api-config';
import '../styles/globals.css';

export const metadata = { title: 'Proctrail' };

// The API's address is read when a page is served (proctrail dashboard --api), not at build.
export const dynamic = 'force-dynamic';

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en" suppressHydrationWarning>
      <head>
        <Script src="/theme.js" strategy="beforeInteractive" />
      </head>
      <body>
        <Providers liveSocketUrl={liveSocketUrl()}>
          <NavBar />
          <main>{children}</main>
        </Providers>
      </body>
    </html>
  );
}
