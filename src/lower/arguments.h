// src/lower/arguments.h — the kernel's argument list: BufferArgs for the tensors passed to
// lower(), the symbolic size variables in their shapes, and the check that the lowered body
// uses no variable a caller could not supply.
#pragma once

#include <vector>

#include "te/lower.h"

namespace te {

// One BufferArg per tensor (name = tensor name, data = a fresh handle Var named like it).
// te::Error for an undefined tensor or a tensor listed twice.
std::vector<BufferArg> make_buffer_args(const std::vector<Tensor>& tensors);

// The free Vars in the args' shapes, in order of first appearance.
std::vector<Var> collect_size_vars(const std::vector<BufferArg>& args);

// te::Error when body reads a variable that is neither bound inside it (loop, let,
// allocation), an argument's data pointer, nor one of size_vars.
void check_free_vars(const Stmt& body, const std::vector<BufferArg>& args,
                     const std::vector<Var>& size_vars);

}  // namespace te
