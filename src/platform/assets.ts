// Files Kiln reads from its own installation: the vendored schemas, the validators and code stamp the build writes.
// This module sits one folder below src/ (dist/ once compiled), as do the bundled chunks in dist/cli/, so the same
// relative URLs resolve from source, from dist/ and from the bundle.

/** A file of the Kiln package, by its path from the package root (`schema/vendor/…`, `package.json`). */
export function packageFile(path: string): URL {
  return new URL(`../../${path}`, import.meta.url);
}

/** A file the build writes beside the compiled code, by its path under dist/ (`sbom/…`, `cli/kiln-code.txt`). */
export function compiledFile(path: string): URL {
  return new URL(`../${path}`, import.meta.url);
}
