// SPDX-License-Identifier: BSD-3-Clause
#include "vtkSharedMemoryViewPublisher.h"

#include "vtkMultiProcessController.h"
#include "vtkObjectFactory.h"
#include "vtkPVView.h"
#include "vtkRenderWindow.h"

vtkStandardNewMacro(vtkSharedMemoryViewPublisher);

//------------------------------------------------------------------------------
vtkSharedMemoryViewPublisher::vtkSharedMemoryViewPublisher()
{
  this->Enabled = true;
}

//------------------------------------------------------------------------------
vtkSharedMemoryViewPublisher::~vtkSharedMemoryViewPublisher() = default;

//------------------------------------------------------------------------------
void vtkSharedMemoryViewPublisher::SetView(vtkObject* object)
{
  vtkPVView* view = vtkPVView::SafeDownCast(object);
  // In parallel (pvbatch or pvserver under MPI) the first rank holds the
  // composited image; the others publish nothing.
  vtkMultiProcessController* controller = vtkMultiProcessController::GetGlobalController();
  if (controller && controller->GetLocalProcessId() != 0)
  {
    view = nullptr;
  }
  else if (object && !view)
  {
    vtkErrorMacro("SetView: a " << object->GetClassName() << " is not a ParaView view.");
  }
  else if (view && !view->GetRenderWindow())
  {
    vtkErrorMacro("SetView: the " << view->GetClassName()
                                  << " has no render window on this process.");
  }
  this->SetRenderWindow(view ? view->GetRenderWindow() : nullptr);
}

//------------------------------------------------------------------------------
void vtkSharedMemoryViewPublisher::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
}
