import Testing

/// Every suite of this target, run one after the other: each starts a Redis Cluster of its
/// own and drives a sale over it, and two cores cannot serve two of them at once.
@Suite(.serialized) struct ClusterTests {}
