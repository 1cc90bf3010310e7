// SPDX-License-Identifier: BSD-3-Clause
#include "vtkSharedMemoryRenderWindowPublisher.h"

#include "vtkCallbackCommand.h"
#include "vtkCommand.h"
#include "vtkNew.h"
#include "vtkObjectFactory.h"
#include "vtkOpenGLRenderWindow.h"
#include "vtkRenderWindow.h"
#include "vtkRenderer.h"
#include "vtkRendererCollection.h"
#include "vtkUnsignedCharArray.h"
#include "vtk_glew.h"

#include "shared_memory_image.h"
#include "vtkSharedMemoryStreamServer.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>

#ifndef GL_PACK_INVERT_MESA
#define GL_PACK_INVERT_MESA 0x8758 // GL_MESA_pack_invert
#endif

vtkStandardNewMacro(vtkSharedMemoryRenderWindowPublisher);

namespace
{
using Clock = std::chrono::steady_clock;

// The first file leaves room for windows up to this size, so that resizing a
// window does not need a file that clients would have to re-map.
const uint32_t MinimumFileWidth = 1920;
const uint32_t MinimumFileHeight = 1080;

// Whether the current OpenGL context reads rows top first on request
// (GL_MESA_pack_invert: Mesa, llvmpipe, Xvfb). SMI_PUBLISHER_NO_PACK_INVERT=1
// forces the portable path (tests use it to cover both).
bool SMIHasPackInvert()
{
  const char* off = std::getenv("SMI_PUBLISHER_NO_PACK_INVERT");
  if (off && *off && std::strcmp(off, "0") != 0)
  {
    return false;
  }
  GLint count = 0;
  glGetIntegerv(GL_NUM_EXTENSIONS, &count);
  for (GLint i = 0; i < count; ++i)
  {
    const char* name = reinterpret_cast<const char*>(glGetStringi(GL_EXTENSIONS, i));
    if (name && std::strcmp(name, "GL_MESA_pack_invert") == 0)
    {
      return true;
    }
  }
  return false;
}
}

struct vtkSharedMemoryRenderWindowPublisher::vtkInternals
{
  vtkSharedMemoryStreamServer Server;

  vtkNew<vtkCallbackCommand> Observer;
  vtkRenderWindow* ObservedWindow = nullptr; // holds Observer (RenderWindow keeps it alive)
  unsigned long ObserverTag = 0;

  int PackInvert = -1; // -1: not asked yet for ObservedWindow's context
  vtkNew<vtkUnsignedCharArray> Wrapper; // points into the acquired buffer, owns nothing

  Clock::time_point NextPublish;        // MaximumRate: no publish before this
  Clock::time_point NextGrowAttempt;    // growing a file that clients map: once a second
  bool WarnedTooLarge = false;
  bool InPublish = false;

  void Close() { this->Server.Close(); }

  // Close, then serve `fileName` (created, or grown to hold width x height)
  // in the EnSight or the extended layout. NOERROR or the failing code.
  SharedMemoryImageError Serve(const char* fileName, bool enSight, uint32_t width, uint32_t height)
  {
    SharedMemoryImageDesc frame = SMI_DESC_INIT;
    frame.format = IMAGESTREAM_FORMAT_RGB8;
    frame.width = width;
    frame.height = height;
    return this->Server.Serve(fileName, enSight, frame);
  }

  // The steps of Publish(), in order (self: the publisher).

  // Serve the file again, for fileWidth x fileHeight frames, after `after`
  // (a resize, a truncation); a failure says so and stops publishing.
  bool ServeAgain(vtkSharedMemoryRenderWindowPublisher* self, uint32_t fileWidth,
    uint32_t fileHeight, const char* after)
  {
    const SharedMemoryImageError err =
      this->Serve(self->FileName, self->EnSightLayout, fileWidth, fileHeight);
    if (err < IMAGESTREAM_NOERROR)
    {
      vtkErrorWithObjectMacro(self,
        "Cannot serve " << self->FileName << " again after " << after << ": "
                        << vtkSharedMemoryStreamServer::ErrorText(self->FileName, err)
                        << "; publishing stopped.");
      self->Enabled = false;
      self->Reconcile();
      return false;
    }
    return true;
  }

  // Make the buffers hold a width x height frame: serve a grown file
  // (possible while no client maps the old size; tried at most once a second
  // otherwise). False (the frame skipped) when they cannot.
  bool FitBuffers(vtkSharedMemoryRenderWindowPublisher* self, uint32_t width, uint32_t height)
  {
    const uint64_t bytes = uint64_t(width) * height * 3;
    if (bytes <= this->Server.BufferBytes())
    {
      return true;
    }
    const Clock::time_point now = Clock::now();
    if (now >= this->NextGrowAttempt)
    {
      this->NextGrowAttempt = now + std::chrono::seconds(1);
      if (!this->ServeAgain(self, width, height, "a resize"))
      {
        return false;
      }
    }
    if (bytes > this->Server.BufferBytes())
    {
      if (!this->WarnedTooLarge)
      {
        this->WarnedTooLarge = true;
        vtkWarningWithObjectMacro(self,
          "A " << width << "x" << height << " window does not fit the buffers of " << self->FileName
               << " while clients map them; frames are dropped until they detach.");
      }
      ++self->NumberOfSkippedFrames;
      return false;
    }
    return true;
  }

  // Read rows top first with GL_MESA_pack_invert? In EnSight's layout (top
  // row first), when the window's context has it (made current here).
  bool UsePackInvert(vtkSharedMemoryRenderWindowPublisher* self)
  {
    vtkOpenGLRenderWindow* glWindow = vtkOpenGLRenderWindow::SafeDownCast(self->RenderWindow);
    if (!glWindow || !self->EnSightLayout)
    {
      return false;
    }
    glWindow->MakeCurrent();
    if (this->PackInvert < 0)
    {
      this->PackInvert = SMIHasPackInvert() ? 1 : 0;
    }
    return this->PackInvert == 1;
  }

  // Acquire a buffer for a width x height RGB frame into *frame, serving the
  // file again when it was truncated; false (said, or the frame counted as
  // skipped) when there is none.
  bool Acquire(vtkSharedMemoryRenderWindowPublisher* self, uint32_t width, uint32_t height,
    bool packInvert, SharedMemoryFrame* frame)
  {
    SharedMemoryImageDesc desc = SMI_DESC_INIT;
    desc.format = IMAGESTREAM_FORMAT_RGB8;
    desc.width = width;
    desc.height = height;
    desc.flags = packInvert ? 0u : IMAGESTREAM_FRAME_BOTTOMUP;
    SharedMemoryImageError err =
      SharedMemoryImageStream_acquireformat(this->Server.Stream(), &desc, frame);
    if (err == IMAGESTREAM_BAD_FILE_SIZE)
    {
      // The file was truncated under the stream: serve it anew (a failure stops
      // publishing); clients attached to the old size must attach again.
      vtkWarningWithObjectMacro(self,
        "The stream file " << self->FileName
                           << " was truncated under its server; serving it again.");
      if (!this->ServeAgain(self, std::max(MinimumFileWidth, width),
            std::max(MinimumFileHeight, height), "a truncation"))
      {
        return false;
      }
      err = SharedMemoryImageStream_acquireformat(this->Server.Stream(), &desc, frame);
    }
    if (err != IMAGESTREAM_NOERROR)
    {
      if (err < IMAGESTREAM_NOERROR)
      {
        vtkErrorWithObjectMacro(self,
          "Cannot publish a " << width << "x" << height << " frame to " << self->FileName << ": "
                              << SharedMemoryImageStream_errorstring(err));
      }
      ++self->NumberOfSkippedFrames; // no free buffer, or no client (EnSight layout)
      return false;
    }
    return true;
  }

  // Read the window's pixels straight into `buffer` (the acquired frame's).
  bool ReadPixels(
    vtkRenderWindow* window, uint32_t width, uint32_t height, bool packInvert, uint8_t* buffer)
  {
    this->InPublish = true;
    if (packInvert)
    {
      glPixelStorei(GL_PACK_INVERT_MESA, GL_TRUE);
    }
    vtkUnsignedCharArray* wrapper = this->Wrapper;
    wrapper->SetNumberOfComponents(3);
    wrapper->SetArray(
      buffer, static_cast<vtkIdType>(uint64_t(width) * height * 3), 1 /* not ours to free */);
    // After a swap the finished image is in the front (display) buffer; without
    // swaps it stays in the back (render) buffer.
    const int front = window->GetSwapBuffers() ? 1 : 0;
    const int ok = window->GetPixelData(
      0, 0, static_cast<int>(width) - 1, static_cast<int>(height) - 1, front, wrapper, 0);
    const bool wrapped = wrapper->GetPointer(0) == buffer; // not reallocated
    wrapper->SetArray(nullptr, 0, 1);
    if (packInvert)
    {
      glPixelStorei(GL_PACK_INVERT_MESA, GL_FALSE);
    }
    this->InPublish = false;
    return ok == VTK_OK && wrapped;
  }
};

//------------------------------------------------------------------------------
vtkSharedMemoryRenderWindowPublisher::vtkSharedMemoryRenderWindowPublisher()
  : Internals(new vtkInternals)
{
  this->Internals->Observer->SetClientData(this);
  this->Internals->Observer->SetCallback(
    [](vtkObject*, unsigned long, void* clientData, void*)
    {
      auto* self = static_cast<vtkSharedMemoryRenderWindowPublisher*>(clientData);
      vtkInternals& internals = *self->Internals;
      vtkRenderWindow* window = self->RenderWindow;
      if (!internals.Server.Stream() || !window || internals.InPublish || window->GetAbortRender())
      {
        return;
      }
      // A hardware selector renders ids, not an image: never publish it.
      vtkRendererCollection* renderers = window->GetRenderers();
      vtkCollectionSimpleIterator it;
      renderers->InitTraversal(it);
      while (vtkRenderer* renderer = renderers->GetNextRenderer(it))
      {
        if (renderer->GetSelector())
        {
          return;
        }
      }
      if (self->MaximumRate > 0)
      {
        const Clock::time_point now = Clock::now();
        if (now < internals.NextPublish)
        {
          ++self->NumberOfSkippedFrames;
          return;
        }
        // Keep the cadence while renders keep up with it; start afresh after a pause.
        const auto period = std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>(1.0 / self->MaximumRate));
        internals.NextPublish =
          (now - internals.NextPublish < period) ? internals.NextPublish + period : now + period;
      }
      self->Publish();
    });
}

//------------------------------------------------------------------------------
vtkSharedMemoryRenderWindowPublisher::~vtkSharedMemoryRenderWindowPublisher()
{
  this->Enabled = false;
  this->Reconcile();
  this->SetRenderWindow(nullptr);
  delete[] this->FileName;
  this->FileName = nullptr;
}

//------------------------------------------------------------------------------
void vtkSharedMemoryRenderWindowPublisher::SetRenderWindow(vtkRenderWindow* window)
{
  if (window == this->RenderWindow)
  {
    return;
  }
  vtkRenderWindow* old = this->RenderWindow;
  this->RenderWindow = window;
  if (window)
  {
    window->Register(this);
  }
  this->Reconcile(); // moves the observer off `old` before it may go away
  if (old)
  {
    old->UnRegister(this);
  }
  this->Modified();
}

//------------------------------------------------------------------------------
void vtkSharedMemoryRenderWindowPublisher::SetFileName(const char* name)
{
  if ((!name && !this->FileName) || (name && this->FileName && !std::strcmp(name, this->FileName)))
  {
    return;
  }
  delete[] this->FileName;
  this->FileName = nullptr;
  if (name)
  {
    const size_t n = std::strlen(name) + 1;
    this->FileName = new char[n];
    std::memcpy(this->FileName, name, n);
  }
  this->Reconcile();
  this->Modified();
}

//------------------------------------------------------------------------------
void vtkSharedMemoryRenderWindowPublisher::SetEnSightLayout(bool enSight)
{
  if (enSight != this->EnSightLayout)
  {
    this->EnSightLayout = enSight;
    this->Reconcile();
    this->Modified();
  }
}

//------------------------------------------------------------------------------
void vtkSharedMemoryRenderWindowPublisher::SetEnabled(bool enabled)
{
  if (enabled != this->Enabled)
  {
    this->Enabled = enabled;
    this->Reconcile();
    this->Modified();
  }
}

//------------------------------------------------------------------------------
bool vtkSharedMemoryRenderWindowPublisher::Start()
{
  if (!this->RenderWindow)
  {
    vtkErrorMacro("Cannot publish: no render window (SetRenderWindow()).");
    return false;
  }
  if (!this->FileName || !*this->FileName)
  {
    vtkErrorMacro("Cannot publish: no file name (SetFileName()).");
    return false;
  }
  this->SetEnabled(true);
  return this->IsPublishing();
}

//------------------------------------------------------------------------------
void vtkSharedMemoryRenderWindowPublisher::Stop()
{
  this->SetEnabled(false);
}

//------------------------------------------------------------------------------
bool vtkSharedMemoryRenderWindowPublisher::IsPublishing() const
{
  return this->Internals->Server.Stream() != nullptr && this->Internals->ObservedWindow != nullptr;
}

//------------------------------------------------------------------------------
void vtkSharedMemoryRenderWindowPublisher::Reconcile()
{
  vtkInternals& internals = *this->Internals;
  const bool want =
    this->Enabled && this->RenderWindow && this->FileName && *this->FileName;

  // Observer: on the current window while enabled, nowhere otherwise.
  vtkRenderWindow* observe = want ? this->RenderWindow : nullptr;
  if (internals.ObservedWindow != observe)
  {
    if (internals.ObservedWindow)
    {
      internals.ObservedWindow->RemoveObserver(internals.ObserverTag);
    }
    internals.ObservedWindow = observe;
    internals.PackInvert = -1;
    if (observe)
    {
      internals.ObserverTag = observe->AddObserver(vtkCommand::EndEvent, internals.Observer);
    }
  }

  // Stream: open on the wanted file and layout, closed otherwise.
  if (!want)
  {
    internals.Close();
    return;
  }
  if (internals.Server.Serves(this->FileName, this->EnSightLayout))
  {
    return;
  }
  int* size = this->RenderWindow->GetActualSize();
  const uint32_t width = std::max<uint32_t>(MinimumFileWidth, size[0] > 0 ? size[0] : 0);
  const uint32_t height = std::max<uint32_t>(MinimumFileHeight, size[1] > 0 ? size[1] : 0);
  const SharedMemoryImageError err =
    internals.Serve(this->FileName, this->EnSightLayout, width, height);
  if (err < IMAGESTREAM_NOERROR)
  {
    vtkErrorMacro("Cannot publish to "
      << this->FileName << ": " << vtkSharedMemoryStreamServer::ErrorText(this->FileName, err));
    return;
  }
  internals.NextPublish = Clock::time_point();
  internals.WarnedTooLarge = false;
}

//------------------------------------------------------------------------------
bool vtkSharedMemoryRenderWindowPublisher::Publish()
{
  vtkInternals& internals = *this->Internals;
  vtkRenderWindow* window = this->RenderWindow;
  if (!internals.Server.Stream() || !window)
  {
    return false;
  }
  int* size = window->GetActualSize();
  if (size[0] <= 0 || size[1] <= 0)
  {
    return false;
  }
  const uint32_t width = static_cast<uint32_t>(size[0]);
  const uint32_t height = static_cast<uint32_t>(size[1]);

  // A window larger than the buffers: serve a grown file (possible while no
  // client maps the old size; tried at most once a second otherwise).
  if (!internals.FitBuffers(this, width, height))
  {
    return false;
  }

  // Rows are stored as OpenGL reads them, bottom row first, and the frame
  // says so. EnSight's layout is top row first: there the rows are read top
  // first on Mesa (GL_MESA_pack_invert), elsewhere the library reverses them
  // when it publishes.
  const bool packInvert = internals.UsePackInvert(this);
  SharedMemoryFrame frame = nullptr;
  if (!internals.Acquire(this, width, height, packInvert, &frame))
  {
    return false;
  }

  // Read the window straight into the shared buffer.
  if (!internals.ReadPixels(window, width, height, packInvert, frame->buffer))
  {
    SharedMemoryImageStream_abandon(internals.Server.Stream());
    vtkErrorMacro("Reading the pixels of the render window failed; frame not published.");
    return false;
  }
  const vtkIdType number = frame->iFrame;
  const SharedMemoryImageError err = SharedMemoryImageStream_publish(internals.Server.Stream());
  if (err < IMAGESTREAM_NOERROR)
  {
    vtkErrorMacro("Cannot publish to "
      << this->FileName << ": " << vtkSharedMemoryStreamServer::ErrorText(this->FileName, err));
    return false;
  }
  this->LastFrameNumber = number;
  ++this->NumberOfPublishedFrames;
  return true;
}

//------------------------------------------------------------------------------
void vtkSharedMemoryRenderWindowPublisher::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
  os << indent << "RenderWindow: ";
  if (this->RenderWindow)
  {
    os << this->RenderWindow << "\n";
  }
  else
  {
    os << "(none)\n";
  }
  os << indent << "FileName: " << (this->FileName ? this->FileName : "(none)") << "\n";
  os << indent << "MaximumRate: " << this->MaximumRate << "\n";
  os << indent << "EnSightLayout: " << (this->EnSightLayout ? "On" : "Off") << "\n";
  os << indent << "Enabled: " << (this->Enabled ? "On" : "Off") << "\n";
  os << indent << "Publishing: " << (this->IsPublishing() ? "yes" : "no") << "\n";
  os << indent << "NumberOfPublishedFrames: " << this->NumberOfPublishedFrames << "\n";
  os << indent << "NumberOfSkippedFrames: " << this->NumberOfSkippedFrames << "\n";
  os << indent << "LastFrameNumber: " << this->LastFrameNumber << "\n";
}
