// Grant-table constants: GNTST_* status codes, GTF_* entry flags and the v1 entry layout (public/grant_table.h).

export const GNTST_okay = 0;
export const GNTST_general_error = -1;
export const GNTST_bad_domain = -2;
export const GNTST_bad_gntref = -3;
export const GNTST_bad_handle = -4;
export const GNTST_permission_denied = -8;
export const GNTST_bad_page = -9;
export const GNTST_bad_copy_arg = -10;

export const GTF_permit_access = 1;
export const GTF_type_mask = 3;
export const GTF_readonly = 1 << 2;
export const GTF_reading = 1 << 3;
export const GTF_writing = 1 << 4;

/** grant_entry_v1 { u16 flags; u16 domid; u32 frame; }: 8 bytes, 512 per 4 KiB frame. */
export const GRANT_ENTRY_SIZE = 8;
export const ENTRIES_PER_FRAME = 512;
/**
 * Grant-table frames a domain may have: xl's max_grant_frames default (64 since Xen 4.13),
 * which GNTTABOP_query_size reports as max_nr_frames.
 */
export const DEFAULT_MAX_GRANT_FRAMES = 64;
