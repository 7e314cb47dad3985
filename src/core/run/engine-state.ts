/**
 * Where an engine is in its lifecycle. The facade moves it (start, stop); the launcher and the
 * result waits read it, so a run is refused by an engine that cannot yet (or no longer) make it
 * durable, and a wait ends when the engine stops. One object per engine, shared by reference.
 */
import { EngineStateError } from '../shared/errors.js';

export type EngineStateName = 'new' | 'starting' | 'started' | 'stopping' | 'stopped';

export class EngineState {
  #name: EngineStateName = 'new';

  get name(): EngineStateName {
    return this.#name;
  }

  moveTo(name: EngineStateName): void {
    this.#name = name;
  }

  /** Refuses what only a started engine may do; `hint` ends the message (`first`, `before run()`). */
  assertStarted(hint = 'first'): void {
    if (this.#name !== 'started') {
      throw new EngineStateError('ENGINE_NOT_STARTED', `Engine is ${this.#name}: call await engine.start() ${hint}`);
    }
  }
}
