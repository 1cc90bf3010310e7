// SPDX-License-Identifier: BSD-3-Clause
#include "vtkSharedMemoryImageSource.h"
#include "vtkSharedMemoryStreamServer.h"

#include "vtkDataArray.h"
#include "vtkDoubleArray.h"
#include "vtkFieldData.h"
#include "vtkIntArray.h"
#include "vtkImageData.h"
#include "vtkInformation.h"
#include "vtkInformationVector.h"
#include "vtkNew.h"
#include "vtkObjectFactory.h"
#include "vtkPointData.h"
#include "vtkSmartPointer.h"
#include "vtkStringArray.h"
#include "vtkStreamingDemandDrivenPipeline.h"
#include "vtkTypeUInt32Array.h"
#include <vtksys/SystemTools.hxx>

#include "shared_memory_image.h"
#include "vtkSharedMemoryImageFormats.h"
#include "vtkSharedMemoryImageRanges.h"

#include <chrono>
#include <cstdint>
#include <ctime>
#include <initializer_list>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

vtkStandardNewMacro(vtkSharedMemoryImageSource);

namespace
{
// VTK scalar type and components of a stream format; false when unknown.
bool SMIScalarsOf(uint32_t format, int* type, int* comps)
{
  *type = smi::VTKTypeOfFormat(format, comps);
  return *type >= 0;
}

uint32_t SMIDepth(const SharedMemoryImageDesc& desc)
{
  return desc.depth ? desc.depth : 1;
}

// The image geometry of a frame: its extent, and its spacing (0 means 1).
void SMIGeometry(const SharedMemoryImageDesc& desc, int extent[6], double spacing[3])
{
  extent[0] = extent[2] = extent[4] = 0;
  extent[1] = static_cast<int>(desc.width) - 1;
  extent[3] = static_cast<int>(desc.height) - 1;
  extent[5] = static_cast<int>(SMIDepth(desc)) - 1;
  for (int i = 0; i < 3; ++i)
  {
    spacing[i] = desc.spacing[i] != 0.0 ? desc.spacing[i] : 1.0;
  }
}

// Set the one-value array `array` (named `name`) to `value`: in place when
// nothing else holds it, otherwise in a new array (downstream keeps the old).
template <typename ArrayT, typename ValueT>
void SetValue(vtkSmartPointer<ArrayT>& array, const char* name, ValueT value)
{
  if (!array || array->GetReferenceCount() != 1)
  {
    array = vtkSmartPointer<ArrayT>::New();
    array->SetName(name);
    array->SetNumberOfTuples(1);
  }
  array->SetValue(0, value);
  array->Modified();
}

double SteadySeconds()
{
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

// Frames received per second: over the frames of the last two seconds, at
// most 64 of them, so a rate change shows within a second or two.
class RateMeter
{
public:
  void Add(double now)
  {
    this->Times[this->Next++ % Size] = now;
  }
  double PerSecond(double now) const
  {
    const unsigned n = this->Next < Size ? this->Next : Size;
    double oldest = now;
    unsigned count = 0;
    for (unsigned i = 0; i < n; ++i)
    {
      const double t = this->Times[i];
      if (now - t <= 2.0)
      {
        oldest = t < oldest ? t : oldest;
        ++count;
      }
    }
    // count frames span count - 1 intervals from the oldest to now.
    return count >= 2 && now > oldest ? (count - 1) / (now - oldest) : 0.0;
  }
  void Clear() { this->Next = 0; }

private:
  static constexpr unsigned Size = 64;
  double Times[Size] = {};
  unsigned Next = 0;
};

// One client handle of the stream (one client slot). A handle holds at most
// one frame locked; a frame lent to VTK (zero copy) stays locked on its
// handle until VTK frees the array that points into it, so the source keeps
// a few handles. Calls on a handle take its mutex: VTK may free an array,
// and so unlock its handle, on another thread.
struct Handle
{
  std::mutex Mutex;
  SharedMemoryImageStream Stream = nullptr;
  bool Lent = false; // its locked frame is an array's memory

  explicit Handle(SharedMemoryImageStream stream)
    : Stream(stream)
  {
  }
  ~Handle() { SharedMemoryImageStream_destroy(this->Stream); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
};
using HandlePtr = std::shared_ptr<Handle>;

// The frames lent to VTK arrays, by pixel address: a vtkBuffer's free
// function gets only the address. Each handle maps the file at its own
// addresses, so an address names one handle's frame. Never destroyed: arrays
// may be freed while the process exits, after static destructors ran.
std::mutex& LentMutex()
{
  static std::mutex* mutex = new std::mutex;
  return *mutex;
}
std::map<const void*, HandlePtr>& LentFrames()
{
  static auto* frames = new std::map<const void*, HandlePtr>;
  return *frames;
}

// The free function of a lent array: unlock its frame. The handle itself
// goes when nothing else holds it (a detached source's handles end here).
void ReleaseLentFrame(void* pixels)
{
  HandlePtr handle;
  {
    std::lock_guard<std::mutex> guard(LentMutex());
    auto it = LentFrames().find(pixels);
    if (it == LentFrames().end())
    {
      return;
    }
    handle = std::move(it->second);
    LentFrames().erase(it);
  }
  std::lock_guard<std::mutex> guard(handle->Mutex);
  SharedMemoryImageStream_unlock(handle->Stream);
  handle->Lent = false;
}

// An array of `type` x `comps` whose values are the locked frame at
// `pixels` (no copy, read-only memory): freeing it unlocks the frame on
// `handle`.
vtkSmartPointer<vtkDataArray> LendFrame(
  const HandlePtr& handle, void* pixels, int type, int comps, vtkIdType tuples)
{
  vtkSmartPointer<vtkDataArray> array =
    vtkSmartPointer<vtkDataArray>::Take(vtkDataArray::CreateDataArray(type));
  array->SetNumberOfComponents(comps);
  {
    std::lock_guard<std::mutex> guard(LentMutex());
    LentFrames()[pixels] = handle;
    handle->Lent = true;
  }
  array->SetVoidArray(pixels, tuples * comps, 1);
  array->SetArrayFreeFunction(ReleaseLentFrame);
  array->SetName("Pixels");
  return array;
}
}

// Protocol note: RequestInformation takes the newest frame in one pass (lock,
// copy, unlock), so that the extent it announces is exactly what RequestData
// delivers and no buffer stays locked between the two passes (or after a
// pass that stops at RequestInformation); RequestData shares the copy into
// the output. Attaching is retried on every poll and update, and each problem
// is reported once, so nothing blocks and the log is not flooded.
struct vtkSharedMemoryImageSource::vtkInternals
{
  vtkSharedMemoryImageSource* Self;
  explicit vtkInternals(vtkSharedMemoryImageSource* self)
    : Self(self)
  {
  }

  // The stream's handles (client slots): the first made by Attach, more
  // while frames are lent to VTK arrays (each keeps its handle), at most
  // MaxHandles, one of them always free to lock the next frame with.
  static constexpr size_t MaxHandles = 4;
  std::vector<HandlePtr> Handles;
  HandlePtr Current;        // the handle that locked the newest frame (polled)
  std::string AttachedName; // the FileName the handles were made for
  SharedMemoryStreamStatus StreamStatus = {}; // where it stands (the library's policy)
  uint32_t Layout = 0;
  bool ServerAlive = false;
  unsigned Attachments = 0; // streams attached so far

  // The last frame copied out (its arrays and geometry): the output until a
  // newer one arrives.
  vtkSmartPointer<vtkDataArray> Pixels;
  vtkSmartPointer<vtkDataArray> Spare; // the frame before, for reuse (see Copy)
  bool PixelsLent = false;             // Pixels points into a locked frame (see Lend)
  vtkSmartPointer<vtkTypeUInt32Array> FrameNumberArray;
  vtkSmartPointer<vtkDoubleArray> TimestampArray;
  // Stream facts for ParaView's Information panel (field data).
  vtkSmartPointer<vtkDoubleArray> RateArray;     // FramesPerSecond
  vtkSmartPointer<vtkIntArray> AliveArray;       // ServerAlive
  vtkSmartPointer<vtkStringArray> FormatArray;   // PixelFormat
  vtkSmartPointer<vtkStringArray> StatusArray;   // Status (GetStatus())
  RateMeter Received;
  SharedMemoryImageDesc FrameDesc = {};
  vtkTypeUInt32 FrameNumber = 0;
  double Timestamp = 0.0;

  // The last problem reported, so that each is said once.
  std::string Problem;
  // What the source is doing, in words (GetStatus()).
  std::string Status;

  // Say where things stand: `error` (something only the user can fix) is
  // reported once as a VTK error; the states a live stream passes through (no
  // server yet, a restart, the file replaced or removed) only set the status.
  void Report(bool error, const std::string& message)
  {
    this->Status = message;
    if (message == this->Problem)
    {
      return;
    }
    this->Problem = message;
    if (error)
    {
      vtkErrorWithObjectMacro(this->Self, << message);
    }
    else
    {
      vtkDebugWithObjectMacro(this->Self, << message);
    }
  }

  // (A handle whose frame an array still holds lives on until VTK frees
  // that array: see ReleaseLentFrame.)
  void Detach()
  {
    this->Handles.clear();
    this->Current.reset();
    this->AttachedName.clear();
    this->StreamStatus = SharedMemoryStreamStatus();
    this->Layout = 0;
    this->ServerAlive = false;
  }

  // Forget everything about the previous file (FileName changed).
  void Reset()
  {
    this->Detach();
    this->Pixels = nullptr;
    this->PixelsLent = false;
    this->Spare = nullptr;
    this->FrameNumberArray = nullptr;
    this->TimestampArray = nullptr;
    this->RateArray = nullptr;
    this->AliveArray = nullptr;
    this->FormatArray = nullptr;
    this->StatusArray = nullptr;
    this->Received.Clear();
    this->FrameDesc = SharedMemoryImageDesc();
    this->FrameNumber = 0;
    this->Timestamp = 0.0;
    this->Problem.clear();
    this->Status.clear();
  }

  // Attach to fileName if not attached yet; with `verify`, also look where
  // the stream stands (SharedMemoryImageStream_refresh: the file replaced or
  // removed, a server gone or come) and attach again when the library says
  // so. True when attached. Frames flowing prove the file alive, so the look
  // waits for a poll that finds no newer frame (Recheck).
  bool Attach(const char* fileName, bool verify)
  {
    if (!fileName || !*fileName)
    {
      this->Reset();
      return false;
    }
    if (this->AttachedName != fileName)
    {
      this->Reset();
    }
    if (this->Current)
    {
      if (!verify)
      {
        return true;
      }
      uint32_t situation;
      {
        std::lock_guard<std::mutex> guard(this->Current->Mutex);
        situation =
          SharedMemoryImageStream_refresh(fileName, this->Current->Stream, &this->StreamStatus);
      }
      if (!this->StreamStatus.reattach)
      {
        this->FollowServer(fileName);
        return true;
      }
      this->Detach();
      if (situation == IMAGESTREAM_SITUATION_MISSING)
      {
        this->AttachedName = fileName;
        this->Report(false,
          std::string("the stream file ") + fileName +
            " was removed; keeping the last frame, waiting for a server to create it again");
        return false;
      }
    }
    this->AttachedName = fileName;
    SharedMemoryImageStream stream = nullptr;
    const uint32_t situation = SharedMemoryImageStream_attach(
      fileName, IMAGESTREAM_OPTIONS_ANYFORMAT, &stream, &this->StreamStatus);
    if (!stream)
    {
      this->ReportNotAttached(fileName, situation);
      return false;
    }
    this->Current = std::make_shared<Handle>(stream);
    this->Handles.assign(1, this->Current);
    ++this->Attachments;
    this->Layout = this->StreamStatus.layout;
    this->ServerAlive = this->StreamStatus.server_alive != 0;
    this->Problem.clear();
    this->Status = this->Attached(fileName,
      this->ServerAlive ? "server alive"
                        : "its server is gone; waiting for a server to come back");
    return true;
  }

  // Whether the folder fileName is in exists (a bare name: the current one).
  static bool FolderExists(const char* fileName)
  {
    const std::string folder = vtksys::SystemTools::GetFilenamePath(fileName);
    return folder.empty() || vtksys::SystemTools::FileIsDirectory(folder);
  }

  // Why fileName is not attached (SharedMemoryImageStream_attach's
  // situation): the states a live stream passes through only set the
  // status; what only the user can fix is an error.
  void ReportNotAttached(const char* fileName, uint32_t situation)
  {
    const std::string why =
      vtkSharedMemoryStreamServer::ErrorText(fileName, this->StreamStatus.code);
    const std::string notYet = std::string("no stream in ") + fileName + " yet (";
    switch (situation)
    {
      case IMAGESTREAM_SITUATION_MISSING:
        // (No folder either: the library's text names it and the fix.)
        this->Report(false,
          this->Pixels ? std::string("the stream file ") + fileName +
              " was removed; keeping the last frame, waiting for a server to create it again"
            : notYet + (FolderExists(fileName) ? std::string("the file does not exist") : why) +
              "); waiting for a server to create it");
        break;
      case IMAGESTREAM_SITUATION_NO_SERVER:
        this->Report(false, notYet + "no server has set it up); waiting for a server to set it up");
        break;
      case IMAGESTREAM_SITUATION_SETTING_UP:
        this->Report(false,
          this->StreamStatus.code == IMAGESTREAM_BAD_FILE_SIZE
            ? notYet + why + "); waiting for a server to set it up"
            : notYet + "its header is not valid yet); waiting for the server to set it up");
        break;
      case IMAGESTREAM_SITUATION_NOT_A_STREAM:
        this->Report(true,
          std::string("cannot attach to ") + fileName + ": " + why +
            " (not a shared-memory image stream?); will try again if it changes");
        break;
      default:
        this->Report(true, std::string("cannot attach to ") + fileName + ": " + why);
        break;
    }
  }

  // The status while attached: the file, its layout, and `server`.
  std::string Attached(const char* fileName, const char* server) const
  {
    return std::string("attached to ") + fileName + " (" +
      (this->Layout == IMAGESTREAM_LAYOUT_ENSIGHT ? "EnSight" : "extended") + " layout, " +
      server + ")";
  }

  // After a refresh that keeps the stream: tell when the server went away
  // or came.
  void FollowServer(const char* fileName)
  {
    const bool alive = this->StreamStatus.server_alive != 0;
    if (alive == this->ServerAlive)
    {
      return;
    }
    this->ServerAlive = alive;
    if (!alive)
    {
      this->Report(false,
        std::string("the server of ") + fileName +
          " is gone; keeping the last frame, waiting for a server to come back");
      return;
    }
    this->Problem.clear();
    this->Status = this->Attached(fileName, "server alive");
  }

  // A poll found no newer frame: was the file replaced or removed, or did the
  // server go or come? Re-attaches as needed; true when a newly attached
  // stream is worth polling again.
  bool Recheck(const char* fileName)
  {
    const unsigned before = this->Attachments;
    return this->Attach(fileName, true) && this->Attachments != before;
  }

  // Is a frame newer than the current one waiting? Asked of the handle that
  // locked the current frame: its last frame is that one.
  SharedMemoryImageError Poll()
  {
    std::lock_guard<std::mutex> guard(this->Current->Mutex);
    return SharedMemoryImageStream_wait(this->Current->Stream, 0);
  }

  static bool IsLent(const HandlePtr& handle)
  {
    std::lock_guard<std::mutex> guard(handle->Mutex);
    return handle->Lent;
  }

  // A new handle on the attached file (a client slot), or nullptr.
  HandlePtr NewHandle()
  {
    SharedMemoryImageStream stream = nullptr;
    if (SharedMemoryImageStream_create(
          this->AttachedName.c_str(), IMAGESTREAM_OPTIONS_ANYFORMAT, &stream) < IMAGESTREAM_NOERROR)
    {
      return nullptr;
    }
    this->Handles.push_back(std::make_shared<Handle>(stream));
    return this->Handles.back();
  }

  // A handle whose frame no array holds, other than `taken`: the current one
  // first (it knows the current frame), then another, then a new one (at
  // most MaxHandles); nullptr when there is none.
  HandlePtr FreeHandle(const HandlePtr& taken = nullptr)
  {
    if (this->Current != taken && !IsLent(this->Current))
    {
      return this->Current;
    }
    for (const HandlePtr& handle : this->Handles)
    {
      if (handle != taken && !IsLent(handle))
      {
        return handle;
      }
    }
    return this->Handles.size() < MaxHandles ? this->NewHandle() : nullptr;
  }

  // Is frame `number` described by `desc` the one produced last? (A handle
  // that did not lock it may lock it again.)
  bool IsCurrentFrame(vtkTypeUInt32 number, const SharedMemoryImageDesc& desc) const
  {
    return this->Pixels && number == this->FrameNumber && desc.timestamp == this->Timestamp &&
      desc.format == this->FrameDesc.format && desc.width == this->FrameDesc.width &&
      desc.height == this->FrameDesc.height && SMIDepth(desc) == SMIDepth(this->FrameDesc);
  }

  // Lock the newest frame on a free handle (after a re-attach if none is
  // new); NO_FRAMEAVAILABLE when there is none (or no free handle).
  SharedMemoryImageError LockNewest(const char* fileName, HandlePtr& handle, SharedMemoryFrame* frame)
  {
    for (int attempt = 0; attempt < 2; ++attempt)
    {
      handle = this->FreeHandle();
      SharedMemoryImageError rc = IMAGESTREAM_NO_FRAMEAVAILABLE;
      if (handle)
      {
        std::lock_guard<std::mutex> guard(handle->Mutex);
        rc = SharedMemoryImageStream_lock(handle->Stream, frame);
      }
      if (rc != IMAGESTREAM_NO_FRAMEAVAILABLE || attempt > 0 || !this->Recheck(fileName))
      {
        return rc;
      }
    }
    return IMAGESTREAM_NO_FRAMEAVAILABLE;
  }

  static void Unlock(const HandlePtr& handle)
  {
    std::lock_guard<std::mutex> guard(handle->Mutex);
    SharedMemoryImageStream_unlock(handle->Stream);
  }

  // Take the newest frame not seen yet, if any: lock it, then either lend it
  // to VTK (a frame stored bottom row first, VTK's order: the output array
  // points into the locked frame, which stays locked until VTK frees the
  // array) or copy it out (rows flipped: VTK wants the bottom row first) and
  // unlock it. True when a new frame was taken. A frame of an unknown format
  // or size, or a failed copy, keeps the last frame. `output` (the
  // algorithm's output, which shares the last frame's arrays) lets go of them
  // first, so that a copy can reuse them when nothing downstream holds them
  // and a lent frame is unlocked when nothing does; RequestData shares the
  // arrays into it again.
  bool FetchNewest(const char* fileName, vtkImageData* output)
  {
    if (!this->Current)
    {
      return false;
    }
    HandlePtr handle;
    SharedMemoryFrame frame = nullptr;
    SharedMemoryImageError rc = this->LockNewest(fileName, handle, &frame);
    if (rc < IMAGESTREAM_NOERROR)
    {
      this->Report(true,
        std::string("cannot read a frame from ") + fileName + ": " +
          SharedMemoryImageStream_errorstring(rc) + "; keeping the last frame");
      this->Detach();
      this->AttachedName = fileName;
      return false;
    }
    if (rc != IMAGESTREAM_NOERROR)
    {
      return false; // no newer frame: keep the last one
    }
    SharedMemoryImageDesc desc = {};
    uint32_t flags = 0;
    int type = 0;
    int comps = 0;
    rc = SharedMemoryImageStream_describe(handle->Stream, &desc);
    if (rc == IMAGESTREAM_NOERROR)
    {
      rc = SharedMemoryImageStream_frameflags(handle->Stream, &flags);
    }
    if (rc != IMAGESTREAM_NOERROR || !SMIScalarsOf(desc.format, &type, &comps) ||
      desc.width == 0 || desc.height == 0)
    {
      Unlock(handle);
      this->Current = handle;
      this->Report(true,
        std::string("frame ") + std::to_string(frame->iFrame) + " of " + fileName +
          " has an unknown format or size; skipped");
      return false;
    }
    const vtkTypeUInt32 number = frame->iFrame;
    if (handle != this->Current && this->IsCurrentFrame(number, desc))
    {
      Unlock(handle); // the frame produced last, locked again by another handle
      this->Current = handle;
      return false;
    }
    this->Current = handle;
    if (output)
    {
      output->GetPointData()->Initialize();
    }
    bool taken = false;
    if ((flags & IMAGESTREAM_FRAME_BOTTOMUP) && this->Self->GetZeroCopy() &&
      this->FreeHandle(handle))
    {
      this->Lend(handle, frame->buffer, desc, type, comps);
      taken = true;
    }
    else
    {
      taken = this->Copy(handle, desc, type, comps);
      Unlock(handle);
    }
    if (!taken)
    {
      return false;
    }
    // ParaView asks for every range of the frame after each update: one
    // fast pass here instead of VTK's several.
    if (this->Self->GetComputeValueRanges())
    {
      smi::CacheValueRanges(this->Pixels);
    }
    this->ServerAlive = true;
    this->Received.Add(SteadySeconds());
    SetValue(this->FrameNumberArray, "FrameNumber", number);
    SetValue(this->TimestampArray, "Timestamp", desc.timestamp);
    this->FrameDesc = desc;
    this->FrameNumber = number;
    this->Timestamp = desc.timestamp;
    return true;
  }

  static vtkIdType Tuples(const SharedMemoryImageDesc& desc)
  {
    return static_cast<vtkIdType>(desc.width) * desc.height * SMIDepth(desc);
  }

  // Make the frame locked on `handle` (at `pixels`, described by `desc`) the
  // output's pixels without copying it: it stays locked until VTK frees the
  // array.
  void Lend(const HandlePtr& handle, uint8_t* pixels, const SharedMemoryImageDesc& desc, int type,
    int comps)
  {
    this->Pixels = LendFrame(handle, pixels, type, comps, Tuples(desc));
    this->PixelsLent = true;
    this->Spare = nullptr; // (frames keep coming bottom row first)
  }

  // Copy the frame locked on `handle`, described by `desc`, into Pixels,
  // bottom row first: the one copy of a frame stored top row first. False
  // (Pixels unchanged) when the copy failed.
  bool Copy(const HandlePtr& handle, const SharedMemoryImageDesc& desc, int type, int comps)
  {
    const vtkIdType tuples = Tuples(desc);

    // Reuse an array nothing else holds: a frame-sized array allocated afresh
    // page-faults on every update. In place when nothing downstream holds the
    // last frame; ParaView's representations hold it until they update, and
    // then the frame before it (Spare) is the free one: two arrays take turns.
    // A lent array is shared memory, never written.
    auto sameShape = [&](vtkDataArray* a)
    {
      return a && a->GetDataType() == type && a->GetNumberOfComponents() == comps &&
        a->GetNumberOfTuples() == tuples;
    };
    auto reusable = [&](vtkDataArray* a) { return sameShape(a) && a->GetReferenceCount() == 1; };
    vtkSmartPointer<vtkDataArray> target;
    const bool inPlace = !this->PixelsLent && reusable(this->Pixels);
    if (inPlace)
    {
      target = this->Pixels;
    }
    else if (reusable(this->Spare))
    {
      target = this->Spare;
    }
    else
    {
      target = vtkSmartPointer<vtkDataArray>::Take(vtkDataArray::CreateDataArray(type));
      target->SetNumberOfComponents(comps);
      target->SetNumberOfTuples(tuples);
      target->SetName("Pixels");
    }

    // Stream data is little-endian, as is every host this library supports.
    // copyframe checks everything before it writes, so a failed copy leaves
    // the arrays as they were; asked for the bottom row first, it reverses
    // the rows of a frame stored top row first.
    const SharedMemoryImageError rc = SharedMemoryImageStream_copyframe(handle->Stream,
      target->GetVoidPointer(0), static_cast<uint64_t>(tuples) * comps * target->GetDataTypeSize(),
      1);
    if (rc != IMAGESTREAM_NOERROR)
    {
      this->Report(true,
        std::string("cannot copy a frame of ") + this->AttachedName + ": " +
          SharedMemoryImageStream_errorstring(rc) + "; keeping the last frame");
      return false;
    }
    if (!inPlace)
    {
      // The previous frame's array becomes the spare, if it is a copy of this shape.
      if (!this->PixelsLent)
      {
        this->Spare = sameShape(this->Pixels) ? this->Pixels : nullptr;
      }
      this->Pixels = target;
    }
    this->PixelsLent = false;
    this->Pixels->Modified();
    return true;
  }

  // Make `output` the last frame: its geometry, and its arrays shared (no
  // copy; cheaper than a ShallowCopy of a whole image). Empty with no frame.
  void ShareInto(vtkImageData* output)
  {
    if (!this->Pixels)
    {
      // No frame yet (or none since FileName changed): an empty image whose
      // field data still says where the source stands (Information panel).
      output->Initialize();
      this->UpdateFacts();
      ShareFacts(output, { this->StatusArray, this->AliveArray });
      return;
    }
    int extent[6];
    double spacing[3];
    SMIGeometry(this->FrameDesc, extent, spacing);
    output->SetExtent(extent);
    output->SetSpacing(spacing);
    output->SetOrigin(this->FrameDesc.origin[0], this->FrameDesc.origin[1],
      this->FrameDesc.origin[2]);
    vtkPointData* points = output->GetPointData();
    if (points->GetScalars() != this->Pixels || points->GetNumberOfArrays() != 1)
    {
      points->Initialize();
      points->SetScalars(this->Pixels);
    }
    const char* format = SharedMemoryImageStream_formatname(this->FrameDesc.format);
    if (!this->FormatArray || this->FormatArray->GetValue(0) != format)
    {
      SetValue(this->FormatArray, "PixelFormat", std::string(format));
    }
    this->UpdateFacts();
    ShareFacts(output,
      { this->FrameNumberArray, this->TimestampArray, this->RateArray, this->AliveArray,
        this->FormatArray, this->StatusArray });
  }

  // The stream facts as of this update (the rate, the server's state and the
  // status change between frames too).
  void UpdateFacts()
  {
    if (this->Pixels)
    {
      SetValue(this->RateArray, "FramesPerSecond", this->Received.PerSecond(SteadySeconds()));
    }
    SetValue(this->AliveArray, "ServerAlive", this->ServerAlive ? 1 : 0);
    const std::string status = this->Status.empty() ? "no file name set" : this->Status;
    if (!this->StatusArray || this->StatusArray->GetValue(0) != status)
    {
      SetValue(this->StatusArray, "Status", status);
    }
  }

  // `arrays` as the output's field data, unless it holds just those already.
  static void ShareFacts(vtkImageData* output, std::initializer_list<vtkAbstractArray*> arrays)
  {
    vtkFieldData* fields = output->GetFieldData();
    bool same = fields->GetNumberOfArrays() == static_cast<int>(arrays.size());
    int i = 0;
    for (vtkAbstractArray* array : arrays)
    {
      same = same && fields->GetAbstractArray(i++) == array;
    }
    if (!same)
    {
      fields->Initialize();
      for (vtkAbstractArray* array : arrays)
      {
        fields->AddArray(array);
      }
    }
  }
};

//------------------------------------------------------------------------------
vtkSharedMemoryImageSource::vtkSharedMemoryImageSource()
  : Internals(new vtkInternals(this))
{
  this->SetNumberOfInputPorts(0);
}

//------------------------------------------------------------------------------
vtkSharedMemoryImageSource::~vtkSharedMemoryImageSource()
{
  this->Internals->Reset();
  this->SetFileName(nullptr);
}

//------------------------------------------------------------------------------
bool vtkSharedMemoryImageSource::IsAttached()
{
  return this->Internals->Current != nullptr;
}

//------------------------------------------------------------------------------
vtkTypeUInt32 vtkSharedMemoryImageSource::GetFrameNumber()
{
  return this->Internals->FrameNumber;
}

//------------------------------------------------------------------------------
const char* vtkSharedMemoryImageSource::GetStatus()
{
  return this->Internals->Status.c_str();
}

//------------------------------------------------------------------------------
bool vtkSharedMemoryImageSource::GetNeedsUpdate()
{
  vtkInternals& internals = *this->Internals;
  if (!internals.Attach(this->FileName, false))
  {
    return false;
  }
  SharedMemoryImageError rc = internals.Poll();
  bool changed = false;
  if (rc == IMAGESTREAM_NO_FRAMEAVAILABLE)
  {
    // No newer frame: has the file or its server changed? A new attachment
    // may have a frame; a server that came or went changes ServerAlive.
    const bool aliveBefore = internals.ServerAlive;
    if (internals.Recheck(this->FileName))
    {
      rc = internals.Poll();
    }
    changed = internals.ServerAlive != aliveBefore && internals.Pixels != nullptr;
  }
  if (rc == IMAGESTREAM_NOERROR || changed)
  {
    this->Modified();
    return true;
  }
  if (rc < IMAGESTREAM_NOERROR)
  {
    internals.Report(true,
      std::string("cannot poll ") + this->FileName + ": " +
        SharedMemoryImageStream_errorstring(rc) + "; keeping the last frame");
    internals.Detach();
    internals.AttachedName = this->FileName;
  }
  return false;
}

//------------------------------------------------------------------------------
int vtkSharedMemoryImageSource::RequestInformation(
  vtkInformation*, vtkInformationVector**, vtkInformationVector* outputVector)
{
  vtkInternals& internals = *this->Internals;
  vtkInformation* outInfo = outputVector->GetInformationObject(0);
  if (internals.Attach(this->FileName, false))
  {
    internals.FetchNewest(
      this->FileName, vtkImageData::SafeDownCast(outInfo->Get(vtkDataObject::DATA_OBJECT())));
  }

  int type = VTK_UNSIGNED_CHAR;
  int comps = 3;
  if (!internals.Pixels || !SMIScalarsOf(internals.FrameDesc.format, &type, &comps))
  {
    int empty[6] = { 0, -1, 0, -1, 0, -1 };
    outInfo->Set(vtkStreamingDemandDrivenPipeline::WHOLE_EXTENT(), empty, 6);
    vtkDataObject::SetPointDataActiveScalarInfo(outInfo, VTK_UNSIGNED_CHAR, 3);
    return 1;
  }
  const SharedMemoryImageDesc& desc = internals.FrameDesc;
  int whole[6];
  double spacing[3];
  SMIGeometry(desc, whole, spacing);
  outInfo->Set(vtkStreamingDemandDrivenPipeline::WHOLE_EXTENT(), whole, 6);
  outInfo->Set(vtkDataObject::SPACING(), spacing, 3);
  outInfo->Set(vtkDataObject::ORIGIN(), desc.origin, 3);
  vtkDataObject::SetPointDataActiveScalarInfo(outInfo, type, comps);
  return 1;
}

//------------------------------------------------------------------------------
int vtkSharedMemoryImageSource::RequestData(
  vtkInformation*, vtkInformationVector**, vtkInformationVector* outputVector)
{
  vtkImageData* output = vtkImageData::GetData(outputVector);
  if (!output)
  {
    return 0;
  }
  this->Internals->ShareInto(output);
  return 1;
}

//------------------------------------------------------------------------------
void vtkSharedMemoryImageSource::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
  const vtkInternals& internals = *this->Internals;
  os << indent << "FileName: " << (this->FileName ? this->FileName : "(none)") << "\n";
  os << indent << "Attached: " << (internals.Current ? "yes" : "no") << "\n";
  os << indent << "Layout: "
     << (internals.Layout == IMAGESTREAM_LAYOUT_ENSIGHT
            ? "EnSight"
            : (internals.Layout == IMAGESTREAM_LAYOUT_EXTENDED ? "extended" : "(unknown)"))
     << "\n";
  os << indent << "ServerAlive: " << (internals.ServerAlive ? "yes" : "no") << "\n";
  os << indent << "FrameNumber: " << internals.FrameNumber << "\n";
  os << indent << "Timestamp: " << internals.Timestamp << "\n";
  os << indent << "ComputeValueRanges: " << (this->ComputeValueRanges ? "On" : "Off") << "\n";
  os << indent << "ZeroCopy: " << (this->ZeroCopy ? "On" : "Off") << "\n";
}
