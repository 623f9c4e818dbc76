/*
 * PVH entry of the xenfront test kernel.
 *
 * Xen's domain builder jumps to the address in the XEN_ELFNOTE_PHYS32_ENTRY
 * note in 32-bit protected mode, paging off, flat segments, interrupts off,
 * %ebx = physical address of struct hvm_start_info. We clear .bss, build
 * page tables mapping the first 4 GiB one to one with 2 MiB pages (RAM, the
 * foreign-mapping range, Xen's special pages and the LAPIC all live there;
 * the last 256 MiB uncached), enter long mode and call
 * kernel_main(start_info_pa). The interrupt stubs (all 256 vectors) are
 * here too: each pushes an error code (0 where the CPU pushes none) and its
 * vector, and kernel_trap(frame) gets the saved registers.
 */
#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define MSR_EFER 0xc0000080

    .section .note.Xen, "a", @note
    .p2align 2
    .long 4                          /* namesz: "Xen\0" */
    .long 4                          /* descsz */
    .long XEN_ELFNOTE_PHYS32_ENTRY
    .asciz "Xen"
    .p2align 2
    .long pvh_start32

    .section .text.boot, "ax"
    .code32
    .globl pvh_start32
pvh_start32:
    cli
    cld
    mov %ebx, %esi                   /* start_info, kept in esi */

    /* Clear .bss (stack and page tables included). */
    mov $_bss_start, %edi
    mov $_bss_end, %ecx
    sub %edi, %ecx
    xor %eax, %eax
    rep stosb
    mov $boot_stack_top, %esp

    /* 2048 2 MiB pages over 4 PD pages: entry i maps i << 21. */
    mov $boot_pd, %edi
    xor %ecx, %ecx
1:  mov %ecx, %eax
    shl $21, %eax
    or $0x83, %eax                   /* present, writable, 2 MiB */
    cmp $1920, %ecx                  /* 0xf0000000 and up: MMIO, uncached */
    jb 2f
    or $0x18, %eax                   /* PCD | PWT */
2:  mov %eax, (%edi,%ecx,8)
    movl $0, 4(%edi,%ecx,8)
    inc %ecx
    cmp $2048, %ecx
    jne 1b

    /* PDPT entries 0-3 -> the PD pages; PML4 entry 0 -> the PDPT. */
    mov $boot_pdpt, %edi
    mov $boot_pd, %eax
    or $0x3, %eax
    xor %ecx, %ecx
3:  mov %eax, (%edi,%ecx,8)
    add $4096, %eax
    inc %ecx
    cmp $4, %ecx
    jne 3b
    mov $boot_pdpt, %eax
    or $0x3, %eax
    mov %eax, boot_pml4

    mov %cr4, %eax
    or $0x20, %eax                   /* PAE */
    mov %eax, %cr4
    mov $boot_pml4, %eax
    mov %eax, %cr3
    mov $MSR_EFER, %ecx
    rdmsr
    or $0x100, %eax                  /* LME */
    wrmsr
    mov %cr0, %eax
    or $0x80000001, %eax             /* PG | PE */
    mov %eax, %cr0
    lgdt boot_gdt_desc
    ljmp $0x08, $start64

    .code64
start64:
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    xor %eax, %eax
    mov %eax, %fs
    mov %eax, %gs
    mov $boot_stack_top, %rsp
    mov %esi, %edi                   /* zero-extends: start_info_pa */
    call kernel_main
4:  cli
    hlt
    jmp 4b

/* Interrupt stubs, 16 bytes apart: isr_stubs + 16 * vector. */
    .text
    .p2align 4
    .globl isr_stubs
isr_stubs:
    .set vec, 0
    .rept 256
    .p2align 4
    .if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
    .else
    pushq $0
    .endif
    pushq $vec
    jmp isr_common
    .set vec, vec + 1
    .endr

isr_common:
    push %rax
    push %rcx
    push %rdx
    push %rbx
    push %rbp
    push %rsi
    push %rdi
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    cld
    mov %rsp, %rdi                   /* 176 bytes pushed: rsp stays 16-aligned */
    call kernel_trap
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rdi
    pop %rsi
    pop %rbp
    pop %rbx
    pop %rdx
    pop %rcx
    pop %rax
    add $16, %rsp                    /* vector, error code */
    iretq

    .section .rodata
    .p2align 3
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff         /* 0x08: 64-bit code */
    .quad 0x00cf92000000ffff         /* 0x10: data */
boot_gdt_end:
boot_gdt_desc:
    .word boot_gdt_end - boot_gdt - 1
    .long boot_gdt

    .bss
    .p2align 12
boot_pml4:  .skip 4096
boot_pdpt:  .skip 4096
boot_pd:    .skip 4 * 4096
boot_stack: .skip 65536
boot_stack_top:

    .section .note.GNU-stack, "", @progbits
