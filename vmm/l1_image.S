/* The L1 test kernel, embedded so that build/nestvmm can be copied alone. */
	.section .rodata
	.balign 16
	.global l1_image, l1_image_end
l1_image:
	.incbin L1_IMAGE_PATH
l1_image_end:
	.section .note.GNU-stack, "", @progbits
