import type { NextConfig } from 'next';

const config: NextConfig = {
  // @proctrail/schema exports TypeScript sources; Next compiles them like the app's own files.
  transpilePackages: ['@proctrail/schema'],
  // Types are checked by `npx tsc -p apps/web` in scripts/test.sh; checking them again in every
  // `next build` would only make the build slower.
  typescript: { ignoreBuildErrors: true },
  poweredByHeader: false,
  reactStrictMode: true,
};

export default config;
