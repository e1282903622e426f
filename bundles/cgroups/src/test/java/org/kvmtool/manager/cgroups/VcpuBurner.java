package org.kvmtool.manager.cgroups;

/**
 * A real process shaped like lkvm for the tests: N threads named kvm-vcpu-0..N-1 (the JVM gives a Java
 * thread's name to its native thread) that burn CPU, and M MiB of touched heap. Each "touch K" line on
 * stdin touches K MiB more (answered "touched"). Runs until killed or stdin ends. Usage: VcpuBurner N M
 */
public final class VcpuBurner {
    private VcpuBurner() {
    }

    public static void main(String[] args) throws java.io.IOException {
        int vcpus = Integer.parseInt(args[0]);
        byte[] memory = new byte[Integer.parseInt(args[1]) << 20];
        for (int i = 0; i < memory.length; i += 4096) {
            memory[i] = 1;
        }
        for (int i = 0; i < vcpus; i++) {
            Thread t = new Thread(() -> {
                long x = 0;
                while (!Thread.currentThread().isInterrupted()) {
                    x += System.nanoTime() & 1;
                }
                System.out.println(x);
            }, "kvm-vcpu-" + i);
            t.setDaemon(true);
            t.start();
        }
        System.out.println("ready " + memory.length);
        System.out.flush();
        java.util.List<byte[]> kept = new java.util.ArrayList<>();
        java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in));
        for (String line; (line = in.readLine()) != null; ) {
            if (line.startsWith("touch ")) {
                byte[] more = new byte[Integer.parseInt(line.substring(6).trim()) << 20];
                for (int i = 0; i < more.length; i += 4096) {
                    more[i] = 1;
                }
                kept.add(more);
                System.out.println("touched " + kept.size());
                System.out.flush();
            }
        }
        Runtime.getRuntime().halt(0);
    }
}
