package org.kvmtool.manager.core;

import java.nio.file.Path;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** Tests of one driver over the fake host, made afresh for each test in its own temporary root. */
abstract class FakeHostTest {
    @TempDir
    Path tmp;
    Fixture f;
    KvmtoolDriver driver;

    @BeforeEach
    void activateOnTheFakeHost() {
        f = new Fixture(tmp);
        driver = f.activate();
    }

    @AfterEach
    void closeTheFakeHost() {
        f.close();
    }
}
