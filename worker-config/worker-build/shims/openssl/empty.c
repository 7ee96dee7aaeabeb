/* Placeholder static library for the Debian shim (never linked into mediasoup-worker). */
typedef int telehealth_sfu_shim_unused;
