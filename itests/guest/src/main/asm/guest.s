/*
 * The kvmtool-manager test guest: a 16-bit real-mode flat binary.
 *
 * lkvm loads a kernel that is not a bzImage at 0x1000:0000 and starts it in
 * real mode with CS = DS = SS = 0x1000, so the code is linked at 0
 * (ld -m elf_i386 -Ttext 0 --oformat binary).
 *
 * Behaviour (the lkvm stand-in emulates exactly this):
 *   1. writes "GUEST READY\r\n" to COM1 (0x3f8), polling LSR (0x3fd) bit 5
 *      (transmitter holding register empty) before each byte;
 *   2. touches every 4 KiB page of the RAM above 1 MiB that the BIOS E820
 *      map (int 0x15, eax=0xe820) reports below 4 GiB, writing the page's own
 *      address into it, so that lkvm's RSS (and its cgroup's memory) grows
 *      by about the -m size as with a guest that uses its memory;
 *   3. echoes every byte it reads (polling LSR bit 0, data ready);
 *   4. on 'q' (not echoed) writes "GUEST POWEROFF\r\n" and resets the machine
 *      through the i8042 (0xfe -> port 0x64), which ends lkvm with exit 0.
 * The signature string at the end lets the stand-in recognise this image.
 */
	.code16
	.text
	.globl	_start
_start:
	cli
	mov	%cs, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	$banner, %si
	call	puts
	call	touch_ram

next:
	mov	$0x3fd, %dx		/* LSR */
1:	in	%dx, %al
	test	$0x01, %al		/* data ready? */
	jz	1b
	mov	$0x3f8, %dx		/* RBR */
	in	%dx, %al
	cmp	$'q', %al
	je	poweroff
	call	putc
	jmp	next

poweroff:
	mov	$bye, %si
	call	puts
	mov	$0xfe, %al		/* i8042: pulse the reset line */
	out	%al, $0x64
halt:	hlt
	jmp	halt

/* putc: write %al to COM1 once the transmitter is empty */
putc:
	mov	%al, %ah
	mov	$0x3fd, %dx
1:	in	%dx, %al
	test	$0x20, %al
	jz	1b
	mov	%ah, %al
	mov	$0x3f8, %dx
	out	%al, %dx
	ret

/* puts: write the NUL-terminated string at %ds:%si */
puts:
	lodsb
	test	%al, %al
	jz	1f
	call	putc
	jmp	puts
1:	ret

/*
 * touch_ram: "unreal mode" (FS keeps a 4 GiB limit after a brief switch to
 * protected mode), then one write per page of each E820 RAM range >= 1 MiB.
 */
touch_ram:
	xor	%eax, %eax
	mov	%cs, %ax
	shl	$4, %eax
	add	$gdt, %eax
	mov	%eax, gdtr + 2		/* the GDT's linear address */
	lgdt	gdtr
	mov	%cr0, %eax
	or	$1, %al
	mov	%eax, %cr0
	mov	$8, %bx			/* flat 4 GiB data segment */
	mov	%bx, %fs
	and	$0xfe, %al
	mov	%eax, %cr0
	xor	%ebx, %ebx		/* E820 continuation value */
e820:
	xor	%ax, %ax
	mov	%ax, %fs		/* base 0; the 4 GiB limit stays */
	mov	$0xe820, %eax
	mov	$20, %ecx
	mov	$0x534d4150, %edx	/* "SMAP" */
	mov	$entry, %di
	int	$0x15
	jc	2f
	cmpl	$1, entry + 16		/* usable RAM? */
	jne	1f
	cmpl	$0, entry + 4		/* above 4 GiB: out of reach */
	jne	1f
	mov	entry, %esi
	cmp	$0x100000, %esi		/* leave low memory (IVT, us, BIOS) alone */
	jb	1f
	mov	entry + 8, %ecx
	shr	$12, %ecx
	jz	1f
0:	addr32 mov %esi, %fs:(%esi)
	add	$4096, %esi
	dec	%ecx
	jnz	0b
1:	test	%ebx, %ebx
	jnz	e820
2:	ret

	.p2align 3
gdt:	.quad	0
	.quad	0x00cf92000000ffff	/* base 0, limit 4 GiB, data rw */
gdtr:	.word	gdtr - gdt - 1
	.long	0
entry:	.fill	20, 1, 0

banner:	.asciz	"GUEST READY\r\n"
bye:	.asciz	"GUEST POWEROFF\r\n"
	/* recognised by the lkvm stand-in (itests/lkvm-standin) */
signature:
	.ascii	"KVMTOOL-MANAGER-TEST-GUEST/1"
