/*
 * Cortex-M4 start-up for QEMU mps2-an386: the vector table and the reset handler.
 *
 * The reset handler enables the FPU (CPACR CP10/CP11) before anything else: the Rust
 * library and newlib are built for the hard-float ABI, and their first VFP instruction
 * would fault with the FPU off. Then .data is copied, .bss cleared, static constructors
 * run, and main's return value goes to exit() (semihosting SYS_EXIT: the QEMU exit code).
 */
    .syntax unified
    .cpu cortex-m4
    .fpu fpv4-sp-d16
    .thumb

    .section .vectors, "a", %progbits
    .global __vectors
__vectors:
    .word __stack_top
    .word Reset_Handler
    .word NMI_Handler
    .word HardFault_Handler
    .word MemManage_Handler
    .word BusFault_Handler
    .word UsageFault_Handler
    .word 0, 0, 0, 0
    .word SVC_Handler
    .word DebugMon_Handler
    .word 0
    .word PendSV_Handler
    .word SysTick_Handler
    /* 32 device interrupts: IRQ 13 is the LAN9118 (used by the FreeRTOS image; the
     * other images poll it), the rest unused. */
    .rept 13
    .word Default_Handler
    .endr
    .word Ethernet_Handler
    .rept 18
    .word Default_Handler
    .endr

    .text
    .thumb_func
    .global Reset_Handler
    .type Reset_Handler, %function
Reset_Handler:
    /* CPACR |= CP10 and CP11 full access. */
    ldr r0, =0xE000ED88
    ldr r1, [r0]
    orr r1, r1, #(0xF << 20)
    str r1, [r0]
    dsb
    isb
    /* .data: copy its initial values from the load image. */
    ldr r0, =__data_load
    ldr r1, =__data_start
    ldr r2, =__data_end
1:  cmp r1, r2
    bhs 2f
    ldr r3, [r0], #4
    str r3, [r1], #4
    b 1b
    /* .bss: zero. */
2:  ldr r1, =__bss_start
    ldr r2, =__bss_end
    movs r3, #0
3:  cmp r1, r2
    bhs 4f
    str r3, [r1], #4
    b 3b
4:  bl mps2_board_init
    bl __libc_init_array
    bl mps2_main
    bl exit
5:  b 5b
    .size Reset_Handler, . - Reset_Handler

    .thumb_func
    .weak Default_Handler
    .type Default_Handler, %function
Default_Handler:
    mrs r0, ipsr
    b mps2_unexpected_irq
    .size Default_Handler, . - Default_Handler

    .macro weak_default name
    .weak \name
    .thumb_set \name, Default_Handler
    .endm
    weak_default NMI_Handler
    weak_default HardFault_Handler
    weak_default MemManage_Handler
    weak_default BusFault_Handler
    weak_default UsageFault_Handler
    weak_default SVC_Handler
    weak_default DebugMon_Handler
    weak_default PendSV_Handler
    weak_default SysTick_Handler
    weak_default Ethernet_Handler
