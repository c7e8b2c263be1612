// Types of `import.meta.env` (Vite's, plus the build id a deployment may set).
/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Set at build time (`VITE_BUILD_ID=… npm run build`) to tell deployments apart. */
  readonly VITE_BUILD_ID?: string;
}
