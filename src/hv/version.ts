// zazen's own version and the Xen ABI level it implements, as `xl info` reports them.

/** zazen's release (follows package.json). */
export const ZAZEN_VERSION = '0.1.0';

/**
 * Xen interface level zazen implements for its guests: the hypercall ABI of Xen 4.17, the
 * release the project measures itself against. xen_extra marks the implementation.
 */
export const XEN_MAJOR = 4;
/** See XEN_MAJOR. */
export const XEN_MINOR = 17;
/** See XEN_MAJOR. */
export const XEN_EXTRA = '-zazen';

/** The JavaScript engine the shim embeds. */
export const ENGINE = 'QuickJS 2021-03-27';
