//! DNS for the host (owned by the DNS helper; placeholder module file).
