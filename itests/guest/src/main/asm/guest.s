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
 *      through the i8042 (0xfe -> port 0x64), which ends lkvm with exit 0;
 *   5. on Ctrl-F (0x06, not echoed) reads a decimal count N up to the first
 *      byte that is not a digit (that byte is swallowed too), then writes N
 *      bytes, byte i being pattern[i % 64] (lines of "0-9a-zA-Z\r\n"); no
 *      digits or 0 means N = 1 MiB; N is taken modulo 2^32. Input is not read
 *      during the flood; then it echoes again. A control byte, not a letter:
 *      tests type text such as "after-resume" and expect it echoed.
 * The signature string at the end lets the stand-in recognise this image;
 * its number counts the versions of this behaviour (2: the flood command).
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
	call	getc
	cmp	$'q', %al
	je	poweroff
	cmp	$0x06, %al		/* Ctrl-F */
	je	flood
	call	putc
	jmp	next

/*
 * flood: after Ctrl-F, a decimal count N and the byte that ends it (swallowed);
 * then N bytes of the pattern, a line of 64 per rep outsb: kvmtool's UART
 * writes each byte out as it arrives, so THRE never clears, and one exit per
 * line instead of two per byte makes the flood 3 times as fast.
 */
flood:
	xor	%ecx, %ecx		/* N */
1:	call	getc
	sub	$'0', %al
	cmp	$9, %al
	ja	2f			/* not a digit: N is complete */
	imul	$10, %ecx, %ecx
	movzbl	%al, %eax
	add	%eax, %ecx
	jmp	1b
2:	test	%ecx, %ecx
	jnz	3f
	mov	$0x100000, %ecx		/* no count: 1 MiB */
3:	mov	$64, %eax
	cmp	%eax, %ecx
	jae	4f
	mov	%ecx, %eax		/* the last, shorter line */
4:	sub	%eax, %ecx
	mov	%ecx, %ebx		/* left after this line */
	mov	%eax, %ecx
	mov	$pattern, %si
	mov	$0x3f8, %dx		/* THR */
	rep outsb
	mov	%ebx, %ecx
	test	%ecx, %ecx
	jnz	3b
	jmp	next

poweroff:
	mov	$bye, %si
	call	puts
	mov	$0xfe, %al		/* i8042: pulse the reset line */
	out	%al, $0x64
halt:	hlt
	jmp	halt

/* getc: read a byte from COM1 into %al once one is there */
getc:
	mov	$0x3fd, %dx		/* LSR */
1:	in	%dx, %al
	test	$0x01, %al		/* data ready? */
	jz	1b
	mov	$0x3f8, %dx		/* RBR */
	in	%dx, %al
	ret

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
pattern: .ascii	"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n"
	/* recognised by the lkvm stand-in (itests/lkvm-standin) */
signature:
	.ascii	"KVMTOOL-MANAGER-TEST-GUEST/2"
