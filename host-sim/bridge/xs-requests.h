/*
 * The two requests every C host of the bridge answers (the emulated microcontroller, mcu/host.c,
 * and the moddable engine, moddable/host.c): evaluate a script, and call
 * globalThis.handleCommand(ArrayBuffer). One copy, included by both. The includer defines first:
 *   sendNetString(kind, a, aSize, b, bSize)  one message to the host
 *   runJobs(the)                              run the promise jobs the request queued
 *   REQUEST_OK(the, reply, replySize)         end a request that succeeded (its meter and reply)
 *   REQUEST_CALL_STARTS()                     just before the call into the firmware (may be empty)
 * A request that throws ends with `!<the exception as text>`.
 */

static void evaluate(txMachine* the, uint8_t* source, size_t size)
{
	volatile int failed = 0;
	xsBeginHost(the);
	{
		xsVars(1);
		xsTry {
			txStringCStream stream = { (txString)source, 0, (txSize)size };
			txSlot* realm = mxProgram.value.reference->next->value.module.realm;
			txScript* script = fxParseScript(the, &stream, fxStringCGetter, mxProgramFlag);
			fxRunScript(the, script, mxRealmGlobal(realm), C_NULL, mxRealmClosures(realm)->value.reference, C_NULL, mxProgram.value.reference);
			mxPullSlot(mxResult);
		}
		xsCatch {
			xsVar(0) = xsException;
			xsException = xsUndefined;
			failed = 1;
		}
		if (failed) {
			xsStringValue s = xsToString(xsVar(0));
			sendNetString('!', s, strlen(s), NULL, 0);
		}
	}
	xsEndHost(the);
	if (!failed) {
		runJobs(the);
		REQUEST_OK(the, "", 0);
	}
}

static void command(txMachine* the, uint8_t* message, size_t size)
{
	volatile int failed = 0;
	xsBeginHost(the);
	{
		xsVars(2);
		xsTry {
			xsVar(0) = xsArrayBuffer(message, (xsIntegerValue)size);
			REQUEST_CALL_STARTS();
			xsVar(1) = xsCall1(xsGlobal, xsID("handleCommand"), xsVar(0));
		}
		xsCatch {
			xsVar(1) = xsException;
			xsException = xsUndefined;
			failed = 1;
		}
		if (!failed) runJobs(the);
		if (failed) {
			xsStringValue s = xsToString(xsVar(1));
			sendNetString('!', s, strlen(s), NULL, 0);
		}
		else if (xsIsInstanceOf(xsVar(1), xsArrayBufferPrototype))
			REQUEST_OK(the, xsToArrayBuffer(xsVar(1)), (size_t)xsGetArrayBufferLength(xsVar(1)));
		else {
			const char* s = "handleCommand did not return an ArrayBuffer";
			sendNetString('!', s, strlen(s), NULL, 0);
		}
	}
	xsEndHost(the);
}
