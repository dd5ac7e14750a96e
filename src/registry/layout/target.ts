// The OCI image layout as a build's artifact target (the embedded default), opened on first use.
import { layoutSource } from '../sources.js';
import type { ArtifactTarget, PublishedArtifact } from '../target.js';
import type { Descriptor, OciLayout } from '../types.js';
import { parseManifest } from '../validate.js';
import { openOciLayout, readOciLayout } from './layout.js';

/** An artifact target over the layout in `dir` (created when first published to). */
export function layoutTarget(dir: string): ArtifactTarget {
  let opened: Promise<OciLayout> | undefined;
  const layout = () => {
    opened ??= openOciLayout(dir);
    return opened;
  };
  return {
    name: `the OCI layout ${dir}`,
    layoutDir: dir,
    async publish(artifact, evidence): Promise<PublishedArtifact> {
      const l = await layout();
      const manifest = await l.pushArtifact(artifact);
      // One index update names all the evidence at once (each update is a lock and two fsyncs).
      const manifests = await l.attachAll(evidence.map((e) => ({ ...e, subject: manifest })));
      const layers = await Promise.all(
        manifests.map(async (m) => {
          const body = parseManifest((await l.readBlob(m.digest)).toString('utf8'), `manifest ${m.digest}`);
          return body.layers[0] as Descriptor;
        }),
      );
      return {
        artifact: manifest,
        evidence: manifests.map((m, i) => ({ manifest: m, layer: layers[i] as Descriptor })),
      };
    },
    // Reading creates nothing: `kiln scan` or `kiln publish` on a fresh or read-only home must not write to it.
    async source() {
      return layoutSource(readOciLayout(dir));
    },
  };
}
