/**
 * Container images, pinned by tag and digest. The only place that names an image.
 */

/** An image reference pinned by tag and digest. */
export interface PinnedImage {
  readonly repository: string;
  readonly tag: string;
  readonly digest: string;
}

/**
 * The image from a mirror: the registry host (the part before the first `/`) replaced, path, tag
 * and digest kept.
 */
export function withRegistry(image: PinnedImage, registry: string | undefined): PinnedImage {
  if (registry === undefined) {
    return image;
  }
  return { ...image, repository: `${registry}/${image.repository.slice(image.repository.indexOf('/') + 1)}` };
}

/** `repository:tag@digest`, the form every manifest uses. */
export function imageRef(image: PinnedImage): string {
  return `${image.repository}:${image.tag}@${image.digest}`;
}

/**
 * Images for the Jobs this tool runs itself.
 *
 * Digests are taken only from sources that can be checked; see docs/cilium-versions.md "Images".
 */
export const UTILITY_IMAGES = {
  /**
   * Runs the bundled in-cluster checks (preflight, deletion, verification).
   *
   * Digest pinned by Renovate/Dependabot in two unrelated public repositories
   * (reMarkable/githubUserManager and sdudley/cenote-marketplace-auditor) for `22.16.0-alpine`.
   */
  node: {
    repository: 'docker.io/library/node',
    tag: '22.16.0-alpine',
    digest: 'sha256:41e4389f3d988d2ed55392df4db1420ad048ae53324a8e2b7c6d19508288107e',
  },
  /**
   * Enters the host's namespaces (`nsenter`, in busybox's default build) to run the node scripts
   * with the host's own tools.
   *
   * Digest pinned by Renovate/Dependabot in three unrelated public repositories
   * (markormesher/task-fetcher, nadiamoe/glados-voice-container, harryzcy/artifact-store) for
   * `1.37.0` (May 2026 build).
   */
  busybox: {
    repository: 'docker.io/library/busybox',
    tag: '1.37.0',
    digest: 'sha256:0d3f1e630be52ade0c06107515937607be2cab11a2ad2122099fc79e19bcc18b',
  },
} as const satisfies Record<string, PinnedImage>;
