// te/te.h — everything a C++ user needs: tensor expressions, schedules, lowering, building.
#pragma once

#include "te/base.h"
#include "te/expr_ops.h"
#include "te/ir.h"
#include "te/lower.h"
#include "te/operation.h"
#include "te/runtime.h"
#include "te/schedule.h"
