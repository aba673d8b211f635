// Global stylesheets are imported for their side effect only; Next bundles them.
declare module '*.css';
