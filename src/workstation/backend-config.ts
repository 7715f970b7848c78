/** How the swarm backend reaches the cluster and places workstations (docs/swarm.md). */
export interface SwarmConfig {
  /** Engine API endpoint of a manager (unix://, tcp://, ssh://); default DOCKER_HOST. */
  manager: string | undefined;
  /**
   * Each node's own Engine API endpoint, by node hostname: exec and attach are per-node
   * operations (a manager cannot exec into a task on another node).
   */
  nodes: Record<string, string>;
  /** Placement constraints, e.g. `node.labels.nexora==1` (Swarm's syntax). */
  constraints: string[];
  /** Spread descriptor for placement preferences; default `node.id` (spread across nodes). */
  spread: string | undefined;
  /** Reserved per workstation, so Swarm places it where there is room. */
  reserveMemoryBytes: number;
  reserveNanoCpus: number;
}
