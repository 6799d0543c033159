/* The Xen ELF note PHYS32_ENTRY (type 18) that marks a PVH kernel; descriptor of 4 or 8 bytes. */

#ifndef PVH_NOTE_DESC_SIZE
#error "PVH_NOTE_DESC_SIZE must be 4 or 8"
#endif

	.section .note.xen, "a", @note
	.balign 4
	.long 2f - 1f              /* namesz, including the NUL */
	.long 4f - 3f              /* descsz */
	.long 18                   /* XEN_ELFNOTE_PHYS32_ENTRY */
1:	.asciz "Xen"
2:	.balign 4
3:
#if PVH_NOTE_DESC_SIZE == 8
	.quad pvh_entry            /* Linux's style: an _ASM_PTR, 8 bytes in 64-bit builds */
#elif PVH_NOTE_DESC_SIZE == 4
	.long pvh_entry            /* the 32-bit value the PVH ABI defines */
#else
#error "PVH_NOTE_DESC_SIZE must be 4 or 8"
#endif
4:	.balign 4
